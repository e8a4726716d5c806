"""Gradio's per-tab session states, counted per signed-in user.

Gradio keeps one state (a copy of the page's components, ~100-200 KB here) per `session_hash`, a
key the client makes up, and holds up to 10,000 of them in one least-recently-used list. So one user
sending events under new hashes pushed everyone else's open conversations out and grew the server by
gigabytes, never released. This holder, put in place of Gradio's (install in app/web/gradio_limits.py):

- counts states per user (the server-side user of the request that first used the hash, told by
  `admit`/`claim`; never anything the client chooses) and lets one user hold `per_user` of them; a
  new one beyond replaces that user's least recently used tab without an open heartbeat (closed, or
  a script's finished call), else one not used for a minute, else it is refused (`admit` says False);
  a tab with an event waiting or running never goes;
- drops a state whose tab has no open heartbeat connection (it was closed) and no event for `idle_s`;
- at the global capacity drops states nobody owns first, then idle ones, never a tab in use if any
  other can go.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from gradio.caching import clear_session_caches
from gradio.state_holder import SessionState, StateHolder
from loguru import logger

UNOWNED = ""  # states made by a route that told no user (e.g. /call without a session hash, until claimed)
IN_USE_S = 60.0  # a tab used this recently is never dropped to make room for another
SWEEP_EVERY_S = 5.0


class TabStates(StateHolder):
    def __init__(self, per_user: int, idle_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.lock = threading.RLock()  # type: ignore[assignment]  # our bookkeeping runs inside update()
        self.per_user = per_user
        self.idle_s = idle_s
        self._clock = clock
        self._owner: dict[str, str] = {}  # session hash -> user
        self._tabs: dict[str, OrderedDict[str, None]] = {}  # user -> their hashes, least recently used first
        self._used: dict[str, float] = {}  # session hash -> last use
        self._beats: Counter[str] = Counter()  # session hash -> open heartbeat connections
        self._swept = 0.0

    # ---- what the HTTP layer tells -------------------------------------------------------------

    def admit(self, session_hash: str, user: str) -> bool:
        """May `user` use this hash? Counts it as theirs; False: they hold `per_user` tabs in use."""
        with self.lock:
            owner = self._owner.get(session_hash)
            if owner == user:
                self._touch(session_hash)
                return True
            if owner not in (None, UNOWNED):
                return True  # another user's: the edge's session binding refuses it, not counted twice
            if not self._make_room(user, forced=False):
                return False
            self._register(session_hash, user)
            return True

    def claim(self, session_hash: str, user: str) -> None:
        """A hash the server chose for `user` (an event sent without one): theirs, within their bound."""
        with self.lock:
            if self._owner.get(session_hash) in (None, UNOWNED):
                self._make_room(user, forced=True)
                self._register(session_hash, user)

    def heartbeat(self, session_hash: str, opened: bool) -> None:
        """A tab's heartbeat connection opened or closed (its closing counts as a last use)."""
        with self.lock:
            if opened:
                self._beats[session_hash] += 1
                return
            self._beats[session_hash] -= 1
            if self._beats[session_hash] <= 0:
                del self._beats[session_hash]
            if session_hash in self._used:
                self._used[session_hash] = self._clock()

    def count(self, user: str) -> int:
        with self.lock:
            return len(self._tabs.get(user, ()))

    # ---- Gradio's StateHolder interface --------------------------------------------------------

    def __getitem__(self, session_id: str) -> SessionState:
        with self.lock:
            state = self.session_data.get(session_id)
            if state is None:
                state = self.session_data[session_id] = SessionState(self.blocks)
                if session_id not in self._owner:
                    self._register(session_id, UNOWNED)
            self.update(session_id)
            self._touch(session_id)
            return state

    def update(self, session_id: str) -> None:
        with self.lock:
            if session_id in self.session_data:
                self.session_data.move_to_end(session_id)
            while len(self.session_data) > self.capacity:
                self._drop(self._global_victim(keep=session_id), reason="capacity")

    def delete_all_expired_state(self) -> None:
        """Gradio's lifespan calls this every second: its own expiry of gr.State values, and ours."""
        super().delete_all_expired_state()
        now = self._clock()
        if now - self._swept < SWEEP_EVERY_S:
            return
        self._swept = now
        with self.lock:
            busy = self._busy()
            idle = [
                h
                for h, used in self._used.items()
                if now - used > self.idle_s and not self._beats.get(h) and h not in busy
            ]
            for session_hash in idle:
                self._drop(session_hash, reason="idle")

    # ---- bookkeeping ---------------------------------------------------------------------------

    def _register(self, session_hash: str, user: str) -> None:
        self._forget(session_hash)
        self._owner[session_hash] = user
        self._tabs.setdefault(user, OrderedDict())[session_hash] = None
        self._used[session_hash] = self._clock()

    def _touch(self, session_hash: str) -> None:
        owner = self._owner.get(session_hash)
        if owner is not None:
            self._tabs[owner].move_to_end(session_hash)
            self._used[session_hash] = self._clock()

    def _forget(self, session_hash: str) -> None:
        owner = self._owner.pop(session_hash, None)
        self._used.pop(session_hash, None)
        if owner is not None:
            tabs = self._tabs[owner]
            tabs.pop(session_hash, None)
            if not tabs:
                del self._tabs[owner]

    def _make_room(self, user: str, forced: bool) -> bool:
        tabs = self._tabs.get(user)
        if tabs is None or len(tabs) < self.per_user:
            return True
        victim = self._pick(tabs, in_use_too=forced)
        if victim is None:
            return False
        self._drop(victim, reason="per_user")
        return True

    def _busy(self) -> set[str]:
        """Session hashes with an event waiting in Gradio's queue or running in one of its workers."""
        return {e.session_hash for e in events_in_queue(getattr(getattr(self, "blocks", None), "_queue", None))}

    def _pick(self, hashes: Iterable[str], in_use_too: bool = False) -> str | None:
        """The least recently used of `hashes` that may go: without a heartbeat (the tab was closed,
        or it is a script's call that is over), else unused for a minute, else (`in_use_too`) any;
        never one with an event under way."""
        now, busy = self._clock(), self._busy()
        free = [h for h in hashes if h not in busy]
        closed = [h for h in free if not self._beats.get(h)]
        unused = [h for h in free if now - self._used.get(h, 0.0) > IN_USE_S]
        for candidates in (closed, unused, free if in_use_too else []):
            if candidates:
                return candidates[0]
        return None

    def _global_victim(self, keep: str) -> str:
        others = [h for h in self.session_data if h != keep]
        unowned = [h for h in others if self._owner.get(h, UNOWNED) == UNOWNED]
        return self._pick(unowned) or self._pick(others) or others[0]

    def _drop(self, session_hash: str, reason: str) -> None:
        owner = self._owner.get(session_hash)
        self._forget(session_hash)
        if session_hash in self.session_data:
            self.delete_state(session_hash)  # Gradio's delete callbacks of the tab's gr.State values
            del self.session_data[session_hash]
        self.time_last_used.pop(session_hash, None)
        clear_session_caches(session_hash)
        queue: Any = getattr(self.blocks, "_queue", None)
        if queue is not None and session_hash not in self._busy():  # what Gradio keeps for events nobody read
            queue.pending_event_ids_session.pop(session_hash, None)
            queue.pending_messages_per_session.pop(session_hash, None)
        logger.debug("tab state dropped reason={} user={} states={}", reason, owner or "-", len(self.session_data))


def events_in_queue(queue: Any) -> list[Any]:
    """The events waiting in Gradio's queue (`queue`, None before it starts) or running in one of its workers."""
    if queue is None:
        return []
    waiting = [e for q in list(queue.event_queue_per_concurrency_id.values()) for e in list(q.queue)]
    return waiting + [e for job in list(queue.active_jobs) if job for e in job]


def install(blocks: Any, gradio_app: Any, per_user: int, idle_s: float) -> TabStates:
    """Put a TabStates in place of the StateHolder Gradio made for this app (before it serves)."""
    holder = TabStates(per_user, idle_s)
    holder.set_blocks(blocks)  # also sets blocks.state_holder and takes Gradio's capacity
    gradio_app.state_holder = holder
    return holder
