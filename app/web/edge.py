"""What the HTTP edge enforces before any request reaches Gradio: origins, body sizes, a signed-in
session for every write, session hashes bound to their user, security headers, and who may read
/metrics. One pure ASGI middleware, so the checks run before a body is read or parsed.

Gradio serves the UI and its API on the same paths for everyone; these rules are the part Gradio
leaves to the app when it is mounted into FastAPI (see SECURITY.md).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

from loguru import logger

from app.auth.sessions import one_lookup_per_request
from app.web.uploads import UploadLedger

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

API = "/gradio_api"
# /file=URL and its older alias /file/URL (any scheme, e.g. http:, https:, HTTPS:).
_REMOTE_FILE = re.compile(rf"^{re.escape(API)}/file[=/]+[A-Za-z][A-Za-z0-9+.-]*:")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


@dataclass
class EdgePolicy:
    cookie_name: str
    public_origin: str | None
    allowed_origins: frozenset[str]
    max_request_bytes: int
    max_upload_bytes: int  # one upload request
    max_upload_files: int
    max_pending_upload_bytes: int
    metrics_networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]
    metrics_token: str | None
    require_session: bool  # password mode: every write needs a live session (hf_oauth has its own)
    https: bool = False  # served over HTTPS (public_url) even when the proxy does not say so


class SessionBindings:
    """Gradio keys a browser tab's state and event stream by a `session_hash` the browser makes up.
    The first signed-in user to use a hash owns it; anyone else presenting it is refused. In process
    memory on purpose: Gradio's queue and states are per process too (hence sticky sessions)."""

    def __init__(self, capacity: int = 200_000) -> None:
        self._owners: OrderedDict[str, str] = OrderedDict()
        self._capacity = capacity

    def claim(self, session_hash: str, user: str) -> bool:
        owner = self._owners.get(session_hash)
        if owner is None:
            self._owners[session_hash] = user
            if len(self._owners) > self._capacity:
                self._owners.popitem(last=False)
            return True
        self._owners.move_to_end(session_hash)
        return owner == user

    def allowed(self, session_hash: str, user: str | None) -> bool:
        owner = self._owners.get(session_hash)
        return owner is None or owner == user


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class EdgeMiddleware:
    def __init__(
        self,
        app: Any,
        policy: EdgePolicy,
        resolve_user: Callable[[str | None], str | None],
        uploads: UploadLedger,
        bindings: SessionBindings,
    ) -> None:
        self.app = app
        self.policy = policy
        self.resolve_user = resolve_user
        self.uploads = uploads
        self.bindings = bindings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        path: str = scope.get("path", "")
        try:
            if scope["type"] == "websocket":
                self._check_origin(scope, headers, write=True)
                await self.app(scope, receive, send)
                return
            with one_lookup_per_request():
                user = await self._check(scope, headers, path)
                reserved = self._reserve_upload(scope, headers, path, user)
                try:
                    await self._forward(scope, receive, send, headers, path, user)
                finally:
                    if reserved:
                        self.uploads.end(str(user), reserved)
        except _Refused as e:
            await _respond(send, e.status, e.message, scope.get("type") == "websocket")

    # ---- checks before the body ---------------------------------------------------------------

    async def _check(self, scope: Scope, headers: dict[str, str], path: str) -> str | None:
        method = scope.get("method", "GET")
        if path == "/metrics" or path.startswith("/metrics/"):
            self._check_metrics(scope, headers)
            return None
        write = method not in SAFE_METHODS or path in ("/logout", "/logout/")
        self._check_origin(scope, headers, write=write)
        if (
            _REMOTE_FILE.match(path)  # Gradio fetches a URL given as a "file": never from here
            or path.startswith(f"{API}/deep_link")
            or "deep_link=" in (scope.get("query_string") or b"").decode("latin-1")
        ):
            raise _Refused(404, "Not Found")
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self._body_limit(path)):
            raise _Refused(413, "request too large")
        user: str | None = None
        if self.policy.require_session and path.startswith(API + "/"):
            user = self.resolve_user(_cookie(headers, self.policy.cookie_name))
            scope.setdefault("state", {})["user"] = user  # for the access log
            if user is None and method not in SAFE_METHODS:
                raise _Refused(401, "not signed in")
            if path == f"{API}/queue/data":
                session_hash = parse_qs((scope.get("query_string") or b"").decode("latin-1")).get("session_hash", [""])
                if not self.bindings.allowed(session_hash[0], user):
                    raise _Refused(403, "this session belongs to another user")
        if path == f"{API}/upload" and method == "POST" and length is None:
            raise _Refused(411, "an upload must state its length")
        return user

    def _reserve_upload(self, scope: Scope, headers: dict[str, str], path: str, user: str | None) -> int:
        """Bytes reserved for this upload request against the user's pending-upload space (0: none)."""
        if path != f"{API}/upload" or scope.get("method") != "POST" or user is None:
            return 0
        size = int(headers.get("content-length", "0"))
        if not self.uploads.begin(user, size, self.policy.max_pending_upload_bytes):
            raise _Refused(413, "too many uploaded files are waiting; add or remove them first")
        return size

    def _body_limit(self, path: str) -> int:
        return self.policy.max_upload_bytes if path == f"{API}/upload" else self.policy.max_request_bytes

    def _own_origins(self, scope: Scope, headers: dict[str, str]) -> set[str]:
        scheme = "https" if scope.get("scheme") in ("https", "wss") else "http"
        origins = {f"{scheme}://{headers.get('host', '')}".lower()}
        if self.policy.public_origin:
            origins.add(self.policy.public_origin)
        return origins | self.policy.allowed_origins

    def _check_origin(self, scope: Scope, headers: dict[str, str], write: bool) -> None:
        if not write:
            return
        origin = headers.get("origin")
        if origin is not None:
            if origin.lower() not in self._own_origins(scope, headers):
                logger.warning("refused cross-origin request origin={} path={}", origin[:100], scope.get("path"))
                raise _Refused(403, "cross-origin request refused")
        elif headers.get("sec-fetch-site") == "cross-site":
            raise _Refused(403, "cross-origin request refused")

    def _check_metrics(self, scope: Scope, headers: dict[str, str]) -> None:
        token = self.policy.metrics_token
        auth = headers.get("authorization", "")
        if token and auth.startswith("Bearer ") and hmac.compare_digest(auth[7:].encode(), token.encode()):
            return
        client = scope.get("client")
        try:
            address = ipaddress.ip_address(client[0]) if client else None
        except ValueError:
            address = None
        if address is not None and any(address in net for net in self.policy.metrics_networks):
            return
        raise _Refused(403, "metrics are not available from this address")

    # ---- the body, the response ---------------------------------------------------------------

    async def _forward(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str], path: str, user: str | None
    ) -> None:
        https = self.policy.https or scope.get("scheme") == "https"
        upload = path == f"{API}/upload" and scope.get("method") == "POST"
        limit = self._body_limit(path)
        boundary = _boundary(headers.get("content-type", "")) if upload else None
        state: dict[str, Any] = {"bytes": 0, "parts": 0, "tail": b"", "refused": None, "started": False}
        body_chunks: list[bytes] | None = [] if upload and user is not None else None

        if path in (f"{API}/queue/join", f"{API}/cancel") and scope.get("method") == "POST" and user is not None:
            receive = await self._bind_session(receive, user, limit)

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
                message = {**message, "headers": _with_headers(message.get("headers", []), https)}
            elif message["type"] == "http.response.body" and body_chunks is not None:
                body_chunks.append(message.get("body", b""))
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

    async def _bind_session(self, receive: Receive, user: str, limit: int) -> Receive:
        """Read the (small, capped) JSON body to learn its session_hash, then replay it."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                raise _Refused(413, "request too large")
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        try:
            session_hash = json.loads(body).get("session_hash")
        except (ValueError, AttributeError):
            session_hash = None
        if isinstance(session_hash, str) and not self.bindings.claim(session_hash, user):
            logger.warning("refused a session hash of another user user={}", user)
            raise _Refused(403, "this session belongs to another user")
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay


def _with_headers(raw: list[tuple[bytes, bytes]], https: bool) -> list[tuple[bytes, bytes]]:
    present = {k.lower() for k, _ in raw}
    extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
    if https:
        extra.append((b"strict-transport-security", b"max-age=31536000"))
    return [*raw, *extra]


async def _respond(send: Send, status: int, text: str, websocket: bool = False) -> None:
    if websocket:
        await send({"type": "websocket.close", "code": 1008})
        return
    body = json.dumps({"detail": text}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": _with_headers(headers, False)})
    await send({"type": "http.response.body", "body": body})


def _cookie(headers: dict[str, str], name: str) -> str | None:
    raw = headers.get("cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel else None


def _boundary(content_type: str) -> bytes | None:
    for part in content_type.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "boundary" and value:
            return b"--" + value.strip('"').encode("latin-1")
    return None


def origin_of(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()
