"""Per-user limits at the door of Gradio's queue, so that one signed-in user cannot crowd out the others:

- tabs: the session states one user may hold (app/web/tab_states.py), checked before an event with a
  new `session_hash` reaches Gradio, which would make a state for it;
- queued events: the events one user may have waiting or running at once. Counted from Gradio's own
  queue (the events still waiting in it or running in a worker), so an event that ends in any way -
  answered, failed, cancelled, its client gone - stops counting without our having to see it end.

Both count by the server-side user the edge resolved from the session cookie (scope["state"]["user"],
app/web/edge.py), never by anything the client sends; the session hash is the one the edge read from
the body and checked (scope["state"]["session_hash"]), so the body is read once. One pure ASGI
middleware inside the edge: the edge's checks (origin, size, signed in, session binding) come first.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import gradio as gr
from loguru import logger
from prometheus_client import Counter as MetricCounter
from prometheus_client import Gauge
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Message, Receive, Scope, Send

from app.config import Settings
from app.web import tab_states
from app.web.tab_states import TabStates, events_in_queue
from app.web.ui.i18n import language, msg

API = "/gradio_api"
TAB_STATES = Gauge("pdfqa_tab_states", "Browser tabs (Gradio session states) held in this process")
REFUSED = MetricCounter("pdfqa_refused_events_total", "Events refused at the queue's door, by reason", ["reason"])
LOG_EVERY_S = 60.0  # a flood is logged once a minute per user and reason, not once per request


class QueuedEvents:
    """The events each user has in Gradio's queue, waiting or running."""

    def __init__(self, queue_of: Callable[[], Any]) -> None:
        self._queue_of = queue_of
        self._events: dict[str, set[str]] = {}
        self._joining: Counter[str] = Counter()  # joins on their way into the queue

    def live(self, user: str) -> int:
        ids = self._events.get(user)
        if ids:
            ids &= self._in_queue()
            if not ids:
                del self._events[user]
        return len(ids or ()) + self._joining[user]

    def add(self, user: str, event_id: str) -> None:
        self._events.setdefault(user, set()).add(event_id)

    def joining(self, user: str, step: int) -> None:
        self._joining[user] += step
        if self._joining[user] <= 0:
            del self._joining[user]

    def _in_queue(self) -> set[str]:
        return {e._id for e in events_in_queue(self._queue_of())}


class GradioLimits:
    def __init__(self, app: Any, tabs: TabStates, events: QueuedEvents, max_queued: int) -> None:
        self.app = app
        self.tabs = tabs
        self.events = events
        self.max_queued = max_queued
        self._logged: dict[tuple[str, str], float] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = _kind(scope) if scope["type"] == "http" else None
        signed_in = (scope.get("state") or {}).get("user") if kind else None
        user = str(signed_in) if signed_in else None
        if kind is None or user is None:
            await self.app(scope, receive, send)  # the edge refuses anonymous writes
            return
        path: str = scope["path"]
        if kind == "heartbeat":
            beating = path.rstrip("/").rsplit("/", 1)[-1]
            self.tabs.heartbeat(beating, opened=True)
            try:
                await self.app(scope, receive, send)
            finally:
                self.tabs.heartbeat(beating, opened=False)
            return
        session_hash = scope["state"].get("session_hash")  # of the body, checked by the edge
        if kind == "join" and self.events.live(user) >= self.max_queued:
            await self._refuse(scope, receive, send, user, "queued", msg_key="too_many_queued", count=self.max_queued)
            return
        if session_hash is not None and not self.tabs.admit(session_hash, user):
            await self._refuse(scope, receive, send, user, "tabs", msg_key="too_many_tabs", count=self.tabs.per_user)
            return
        if kind != "join":
            await self.app(scope, receive, send)
            return
        self.events.joining(user, +1)
        try:
            await self.app(scope, receive, self._recording(send, user, session_hash))
        finally:
            self.events.joining(user, -1)

    def _recording(self, send: Send, user: str, session_hash: str | None) -> Send:
        """Learn the event id from the join's answer ({"event_id": ...}) as it goes out."""
        status = [0]
        body: list[bytes] = []

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message.get("status", 0)
            elif message["type"] == "http.response.body" and status[0] == 200:
                body.append(message.get("body", b""))
                if not message.get("more_body"):
                    event_id = _field(b"".join(body), "event_id")
                    if event_id is not None:
                        self.events.add(user, event_id)
                        if session_hash is None:  # Gradio keys this event's state by its id
                            self.tabs.claim(event_id, user)
            await send(message)

        return recording_send

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, user: str, reason: str, msg_key: str, count: int
    ) -> None:
        REFUSED.labels(reason).inc()
        now = time.monotonic()
        if now - self._logged.get((user, reason), -LOG_EVERY_S) >= LOG_EVERY_S:
            self._logged[(user, reason)] = now
            logger.warning("refused an event reason={} user={} limit={} path={}", reason, user, count, scope["path"])
        text = msg(msg_key, language(gr.Request(request=Request(scope))), count=count)
        await JSONResponse({"detail": text}, status_code=429)(scope, receive, send)


def _kind(scope: Scope) -> str | None:
    path: str = scope.get("path", "")
    method = scope.get("method")
    if method == "GET" and path.startswith(f"{API}/heartbeat/"):
        return "heartbeat"
    if method != "POST":
        return None
    if path == f"{API}/queue/join" or path.startswith(f"{API}/call/"):
        return "join"
    if path.startswith((f"{API}/run/", f"{API}/api/")):
        return "state"  # outside the queue (the stop function), but Gradio makes a state for the hash they name
    return None


def _field(body: bytes, name: str) -> str | None:
    try:
        value = json.loads(body).get(name)
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and value else None


def install_gradio_limits(app: Any, gradio_app: Any, blocks: gr.Blocks, settings: Settings) -> None:
    """The tab bound in place of Gradio's state holder and the middleware on `app`; call it before the
    edge middleware is added, so that the edge stays outside it."""
    server = settings.server
    if server.max_queued_per_user >= server.concurrency:
        logger.warning(
            "server.max_queued_per_user={} is not below server.concurrency={}: one user can hold every worker",
            server.max_queued_per_user,
            server.concurrency,
        )
    tabs = tab_states.install(blocks, gradio_app, server.max_tabs_per_user, server.tab_idle_minutes * 60)
    TAB_STATES.set_function(lambda: len(tabs.session_data))
    app.add_middleware(
        GradioLimits,
        tabs=tabs,
        events=QueuedEvents(lambda: getattr(blocks, "_queue", None)),
        max_queued=server.max_queued_per_user,
    )
