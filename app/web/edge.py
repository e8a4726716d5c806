"""What the HTTP edge enforces before any request reaches Gradio: only the routes listed in
app/web/gradio_routes.py, each with its access (closed, public, signed in); origins, body sizes,
no repeated query parameter; session hashes, event ids and upload ids bound to their user; known
functions only; security and cache headers; and who may read /metrics. One pure ASGI middleware, so
the checks run before a body is read or parsed: this module runs them and guards the body and the
answer as they stream; the checks themselves are in app/web/edge_checks.py.

Gradio serves the UI and its API on the same paths for everyone; these rules are the part Gradio
leaves to the app when it is mounted into FastAPI (see SECURITY.md).
"""

from __future__ import annotations

import json
from typing import Any

from loguru import logger

from app.auth.sessions import one_lookup_per_request
from app.web.edge_checks import (
    API,
    CheckedRequest,
    EdgePolicy,
    KnownFunctions,
    Message,
    Receive,
    Refused,
    RequestChecks,
    Scope,
    Send,
    UserResolver,
)
from app.web.gradio_routes import Access, Bind
from app.web.session_bindings import SessionBindings
from app.web.uploads import UploadLedger

# Gradio needs 'unsafe-inline' scripts (the page carries its config in inline scripts, per request)
# and 'unsafe-eval' (it runs the app's `js=` strings with the Function constructor); inline styles
# (Svelte). No inline event-handler attributes, no plugins, no other origin for anything.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; script-src-attr 'none'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self'; font-src 'self' data:; "
    "connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class EdgeMiddleware:
    """The ASGI middleware in front of Gradio: checks, then forwards with the body and the answer guarded."""

    def __init__(
        self,
        app: Any,
        policy: EdgePolicy,
        resolve_user: UserResolver,
        uploads: UploadLedger,
        bindings: SessionBindings,
        functions: KnownFunctions | None = None,
    ) -> None:
        self.app = app
        self.policy = policy
        self.uploads = uploads
        self.checks = RequestChecks(policy, resolve_user, bindings, functions)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":  # no route of this app or of Gradio 6 is a websocket
            await _respond(send, 404, "Not Found", websocket=True)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        path: str = scope.get("path", "")
        try:
            if path == "/metrics" or path.startswith("/metrics/"):
                self.checks.check_metrics(scope, headers)
                await self._forward(scope, receive, send, headers, None)
                return
            with one_lookup_per_request():
                request = await self.checks.check(scope, headers, path)
                reserved = self._reserve_upload(scope, headers, request)
                try:
                    await self._forward(scope, receive, send, headers, request)
                finally:
                    if reserved:
                        self.uploads.end(str(request.user), reserved)
        except Refused as e:
            await _respond(send, e.status, e.message, location=e.location)

    def _reserve_upload(self, scope: Scope, headers: dict[str, str], request: CheckedRequest) -> int:
        """Bytes reserved for this upload request against the user's pending-upload space (0: none)."""
        if request.path != f"{API}/upload" or scope.get("method") != "POST" or request.user is None:
            return 0
        size = int(headers.get("content-length", "0"))
        if not self.uploads.begin(request.user, size, self.policy.max_pending_upload_bytes):
            raise Refused(413, "too many uploaded files are waiting; add or remove them first")
        return size

    # ---- the body, the answer ------------------------------------------------------------------

    async def _forward(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str], request: CheckedRequest | None
    ) -> None:
        https = self.policy.https or scope.get("scheme") == "https"
        path = request.path if request else scope.get("path", "")
        user = request.user if request else None
        no_store = request is None or request.rule.access is not Access.STATIC
        upload = path == f"{API}/upload" and scope.get("method") == "POST"
        limit = self.checks.body_limit(path)
        boundary = _boundary(headers.get("content-type", "")) if upload else None
        state: dict[str, Any] = {"bytes": 0, "parts": 0, "tail": b"", "refused": None, "started": False, "status": 0}
        body_chunks: list[bytes] | None = [] if upload and user is not None else None
        # queue/join and /call answer {"event_id": ...}: recorded as this user's before the client sees it
        held: list[bytes] | None = None

        if request is not None and request.rule.bind is Bind.SESSION_BODY and user is not None:
            receive = await self.checks.bind_body(receive, request, limit)
            scope["state"]["session_hash"] = request.session_hash  # checked and claimed: for the limits
            if request.rule.path.startswith((f"{API}/queue/join", f"{API}/call/")):
                held = []

        async def guarded_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request" and state["refused"] is None:
                chunk = message.get("body", b"")
                state["bytes"] += len(chunk)
                if boundary is not None:
                    data = state["tail"] + chunk
                    state["parts"] += data.count(boundary)
                    state["tail"] = data[-len(boundary) :]
                if state["bytes"] > limit:
                    state["refused"] = (413, "request too large")
                elif state["parts"] > self.policy.max_upload_files + 1:  # + the closing boundary
                    state["refused"] = (413, f"at most {self.policy.max_upload_files} files per upload")
                if state["refused"] is not None:
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if state["refused"] is not None:
                return  # the app's reaction to the cut-off body is replaced by our answer below
            if message["type"] == "http.response.start":
                state["started"] = True
                state["status"] = message["status"]
                message = {**message, "headers": _with_headers(message.get("headers", []), https, no_store)}
            elif message["type"] == "http.response.body":
                if body_chunks is not None:
                    body_chunks.append(message.get("body", b""))
                if held is not None:
                    held.append(message.get("body", b""))
                    if message.get("more_body"):
                        return
                    body = b"".join(held)
                    self.checks.record_event(body, state["status"], str(user))
                    message = {**message, "body": body}
            await send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except Exception:
            if state["refused"] is None:
                raise
        if state["refused"] is not None:
            status, text = state["refused"]
            logger.warning(
                "request refused status={} path={} bytes={} parts={}", status, path, state["bytes"], state["parts"]
            )
            if not state["started"]:
                await _respond(send, status, text)
            return
        if body_chunks is not None and user is not None:
            self.uploads.record(user, b"".join(body_chunks))


def _with_headers(raw: list[tuple[bytes, bytes]], https: bool, no_store: bool = True) -> list[tuple[bytes, bytes]]:
    """The security headers, and `Cache-Control: no-store` on all but the page's static files: a
    signed-in answer (page, config, events, page images) is never kept by a browser or a proxy."""
    if no_store:
        raw = [(k, v) for k, v in raw if k.lower() not in (b"cache-control", b"expires", b"pragma")]
        raw.append((b"cache-control", b"no-store"))
    present = {k.lower() for k, _ in raw}
    extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
    if https:
        extra.append((b"strict-transport-security", b"max-age=31536000"))
    return [*raw, *extra]


async def _respond(send: Send, status: int, text: str, websocket: bool = False, location: str | None = None) -> None:
    if websocket:
        await send({"type": "websocket.close", "code": 1008})
        return
    body = json.dumps({"detail": text}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if location is not None:
        headers.append((b"location", location.encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": _with_headers(headers, False)})
    await send({"type": "http.response.body", "body": body})


def _boundary(content_type: str) -> bytes | None:
    for part in content_type.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "boundary" and value:
            return b"--" + value.strip('"').encode("latin-1")
    return None
