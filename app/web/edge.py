"""What the HTTP edge enforces before any request reaches Gradio: only the routes listed in
app/web/gradio_routes.py, each with its access (closed, public, signed in); origins, body sizes,
no repeated query parameter; session hashes, event ids and upload ids bound to their user; known
functions only; security and cache headers; and who may read /metrics. One pure ASGI middleware, so
the checks run before a body is read or parsed.

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
from urllib.parse import parse_qsl, urlsplit

from loguru import logger

from app.auth.sessions import one_lookup_per_request
from app.web import gradio_routes
from app.web.gradio_routes import Access, Bind, RouteRule
from app.web.uploads import UploadLedger

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
UserResolver = Callable[[Scope, dict[str, str]], Awaitable[str | None]]

API = "/gradio_api"
# /file=URL and its older alias /file/URL (any scheme, e.g. http:, https:, HTTPS:).
_REMOTE_FILE = re.compile(rf"^{re.escape(API)}/file[=/]+[A-Za-z][A-Za-z0-9+.-]*:")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
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
    https: bool = False  # served over HTTPS (public_url) even when the proxy does not say so
    sign_in_url: str | None = None  # hf_oauth: where the page sends a stranger (password mode: Gradio's form)


@dataclass(frozen=True)
class KnownFunctions:
    """The event functions of the Blocks (fixed once built: this app renders nothing per session)."""

    ids: frozenset[int]
    api_names: frozenset[str]
    direct: frozenset[int] = frozenset()  # queue=False: the only ones /run and /api may run


class NotAllowed(Exception):
    """Raised by a user resolver: signed in, but not allowed to use this app (hf_oauth allow-list)."""


def cookie_sessions(resolve: Callable[[str | None], str | None], cookie_name: str) -> UserResolver:
    """Password mode: the user of the session named by the login cookie."""

    async def user(_scope: Scope, headers: dict[str, str]) -> str | None:
        return resolve(_cookie(headers, cookie_name))

    return user


class SessionBindings:
    """Gradio keys a browser tab's state and event stream by a `session_hash` the browser makes up.
    The first signed-in user to use a hash owns it; anyone else presenting it is refused. In process
    memory on purpose: Gradio's queue and states are per process too (hence sticky sessions).

    Bounded per user: a user's oldest keys go when they hold more than `per_user`, so no number of
    new keys from one user can push out another user's binding (which would leave that hash free
    for anyone to claim)."""

    def __init__(self, per_user: int = 10_000) -> None:
        self._owners: dict[str, str] = {}
        self._by_user: dict[str, OrderedDict[str, None]] = {}
        self._per_user = per_user

    def owner(self, key: str) -> str | None:
        return self._owners.get(key)

    def claim(self, session_hash: str, user: str) -> bool:
        owner = self._owners.get(session_hash)
        if owner is not None:
            if owner == user:
                self._by_user[user].move_to_end(session_hash)
            return owner == user
        self._owners[session_hash] = user
        keys = self._by_user.setdefault(user, OrderedDict())
        keys[session_hash] = None
        if len(keys) > self._per_user:
            oldest, _ = keys.popitem(last=False)
            del self._owners[oldest]
        return True

    def allowed(self, session_hash: str, user: str | None) -> bool:
        owner = self._owners.get(session_hash)
        return owner is None or owner == user


class _Refused(Exception):
    def __init__(self, status: int, message: str, location: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.location = location


@dataclass
class _Request:
    """What the checks learned about one request."""

    path: str
    method: str
    rule: RouteRule
    params: dict[str, str]  # path parameters of the matched route
    query: dict[str, str]  # no key is repeated (checked)
    user: str | None = None
    session_hash: str | None = None  # of a JSON body, once checked (_bind_body)


class EdgeMiddleware:
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
        self.resolve_user = resolve_user
        self.uploads = uploads
        self.bindings = bindings  # session hashes (and the ids Gradio uses as hashes)
        self.events = SessionBindings()  # event ids, recorded from the queue's answers
        self.upload_ids = SessionBindings()
        self.functions = functions

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
                self._check_metrics(scope, headers)
                await self._forward(scope, receive, send, headers, None)
                return
            with one_lookup_per_request():
                request = await self._check(scope, headers, path)
                reserved = self._reserve_upload(scope, headers, request)
                try:
                    await self._forward(scope, receive, send, headers, request)
                finally:
                    if reserved:
                        self.uploads.end(str(request.user), reserved)
        except _Refused as e:
            await _respond(send, e.status, e.message, location=e.location)

    # ---- checks before the body ---------------------------------------------------------------

    async def _check(self, scope: Scope, headers: dict[str, str], path: str) -> _Request:
        method = scope.get("method", "GET")
        found = gradio_routes.match(method, path)
        if found.rule is None or found.rule.access is Access.CLOSED:
            raise _Refused(404, "Not Found")
        if not found.method_allowed:
            raise _Refused(405, "Method Not Allowed")
        rule = found.rule
        write = method not in SAFE_METHODS or path in ("/logout", "/logout/")
        self._check_origin(scope, headers, write=write)
        raw_query = (scope.get("query_string") or b"").decode("latin-1")
        pairs = parse_qsl(raw_query, keep_blank_values=True)
        if rule.access is not Access.STATIC and len({k for k, _ in pairs}) != len(pairs):
            # Two values for one name: this check and Starlette could read different ones.
            raise _Refused(400, "a query parameter is repeated")
        if _REMOTE_FILE.match(path) or "deep_link" in dict(pairs):  # Gradio fetches a URL given as a file
            raise _Refused(404, "Not Found")
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self._body_limit(path)):
            raise _Refused(413, "request too large")
        request = _Request(path, method, rule, found.params, dict(pairs))
        if rule.access in (Access.PAGE, Access.SIGNED_IN):
            try:
                request.user = await self.resolve_user(scope, headers)
            except NotAllowed as e:
                raise _Refused(403, str(e)) from None
            scope.setdefault("state", {})["user"] = request.user  # for the access log and the limits
            if request.user is None and rule.access is Access.SIGNED_IN:
                raise _Refused(401, "not signed in")
            if request.user is None and self.policy.sign_in_url:
                raise _Refused(302, "sign in first", location=self.policy.sign_in_url)
        if request.user is not None:
            self._check_ids(request)
        if path == f"{API}/upload" and method == "POST" and length is None:
            raise _Refused(411, "an upload must state its length")
        return request

    def _check_ids(self, request: _Request) -> None:
        """The ids named in the URL belong to this user (those in a body: _bind_body)."""
        user, bind = str(request.user), request.rule.bind
        if bind is Bind.SESSION_QUERY:
            session_hash = request.query.get("session_hash")
            if session_hash is not None and not self.bindings.allowed(session_hash, user):
                raise _Refused(403, "this session belongs to another user")
        elif bind is Bind.SESSION_PATH:
            if not self.bindings.claim(request.params["session_hash"], user):
                raise _Refused(403, "this session belongs to another user")
        elif bind is Bind.EVENT_PATH:
            owner = self.events.owner(request.params["event_id"])
            if owner != user:
                raise _Refused(404 if owner is None else 403, "no such event of yours")
        elif bind is Bind.UPLOAD_QUERY:
            upload_id = request.query.get("upload_id")
            if upload_id is not None and not self.upload_ids.claim(upload_id, user):
                raise _Refused(403, "this upload belongs to another user")
        api_name = request.params.get("api_name")
        call = request.rule.path.startswith(f"{API}/call/")
        if call and api_name is not None and self.functions is not None and api_name not in self.functions.api_names:
            raise _Refused(404, "no such function")

    def _reserve_upload(self, scope: Scope, headers: dict[str, str], request: _Request) -> int:
        """Bytes reserved for this upload request against the user's pending-upload space (0: none)."""
        if request.path != f"{API}/upload" or scope.get("method") != "POST" or request.user is None:
            return 0
        size = int(headers.get("content-length", "0"))
        if not self.uploads.begin(request.user, size, self.policy.max_pending_upload_bytes):
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
        self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str], request: _Request | None
    ) -> None:
        https = self.policy.https or scope.get("scheme") == "https"
        path = request.path if request else scope.get("path", "")
        user = request.user if request else None
        no_store = request is None or request.rule.access is not Access.STATIC
        upload = path == f"{API}/upload" and scope.get("method") == "POST"
        limit = self._body_limit(path)
        boundary = _boundary(headers.get("content-type", "")) if upload else None
        state: dict[str, Any] = {"bytes": 0, "parts": 0, "tail": b"", "refused": None, "started": False, "status": 0}
        body_chunks: list[bytes] | None = [] if upload and user is not None else None
        # queue/join and /call answer {"event_id": ...}: recorded as this user's before the client sees it
        held: list[bytes] | None = None

        if request is not None and request.rule.bind is Bind.SESSION_BODY and user is not None:
            receive = await self._bind_body(receive, request, limit)
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
                    self._record_event(body, state["status"], str(user))
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

    def _record_event(self, body: bytes, status: int, user: str) -> None:
        if status != 200:
            return
        try:
            event_id = json.loads(body).get("event_id")
        except (ValueError, AttributeError):
            return
        if isinstance(event_id, str):
            self.events.claim(event_id, user)
            # Without a session_hash of its own, Gradio keys the event's stream by its id.
            self.bindings.claim(event_id, user)

    async def _bind_body(self, receive: Receive, request: _Request, limit: int) -> Receive:
        """Read the (small, capped) JSON body to check its session_hash, fn_index and event_id, then
        replay it."""
        user = str(request.user)
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
            data = json.loads(body, object_pairs_hook=_unique_keys)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise _Refused(400, "the body must be one JSON object")
        session_hash = data.get("session_hash")
        if session_hash is not None and not (isinstance(session_hash, str) and self.bindings.claim(session_hash, user)):
            logger.warning("refused a session hash of another user user={}", user)
            raise _Refused(403, "this session belongs to another user")
        request.session_hash = session_hash or None
        if request.rule.path == f"{API}/cancel":
            event_id = data.get("event_id")
            if event_id is not None and self.events.owner(str(event_id)) != user:
                raise _Refused(403, "this event belongs to another user")
        fn_index = data.get("fn_index")
        fn = fn_index if isinstance(fn_index, int) and not isinstance(fn_index, bool) else None
        functions = self.functions
        if request.rule.path == f"{API}/queue/join" and functions is not None and fn not in functions.ids:
            raise _Refused(422, "no such function")
        # /run and /api: only a function made to run outside the queue (Gradio would run any fn_index).
        direct = request.rule.path.startswith((f"{API}/run/", f"{API}/api/"))
        if direct and (functions is None or fn not in functions.direct):
            raise _Refused(404, "Not Found")
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("a key is repeated")  # as with query parameters: two readers, two values
    return dict(pairs)


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
