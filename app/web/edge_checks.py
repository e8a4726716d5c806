"""The edge's checks of one request (app/web/edge.py runs them before Gradio sees it): the route
and its access (closed, public, signed in), the origin, no repeated query parameter, the declared
size, who the user is, and the ids the request names (session hashes, event ids, upload ids,
functions) in its URL or in its small JSON body, each bound to its user. A failed check raises
Refused, which the edge answers.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from loguru import logger

from app.web import gradio_routes
from app.web.gradio_routes import Access, Bind, RouteRule
from app.web.session_bindings import SessionBindings

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
UserResolver = Callable[[Scope, dict[str, str]], Awaitable[str | None]]

API = "/gradio_api"
# /file=URL and its older alias /file/URL (any scheme, e.g. http:, https:, HTTPS:).
_REMOTE_FILE = re.compile(rf"^{re.escape(API)}/file[=/]+[A-Za-z][A-Za-z0-9+.-]*:")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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
    page_needs_user: bool = False  # trusted_header: no sign-in form here, a stranger gets 401


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
        return resolve(cookie_value(headers, cookie_name))

    return user


class Refused(Exception):
    """A failed check: the edge answers with `status` and `message` (and `location`: a redirect)."""

    def __init__(self, status: int, message: str, location: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.location = location


@dataclass
class CheckedRequest:
    """What the checks learned about one request."""

    path: str
    method: str
    rule: RouteRule
    params: dict[str, str]  # path parameters of the matched route
    query: dict[str, str]  # no key is repeated (checked)
    user: str | None = None
    session_hash: str | None = None  # of a JSON body, once checked (bind_body)


class RequestChecks:
    """The checks, and the bindings of the ids they check (in process memory, as Gradio's state)."""

    def __init__(
        self,
        policy: EdgePolicy,
        resolve_user: UserResolver,
        bindings: SessionBindings,
        functions: KnownFunctions | None = None,
    ) -> None:
        self.policy = policy
        self.resolve_user = resolve_user
        self.bindings = bindings  # session hashes (and the ids Gradio uses as hashes)
        self.events = SessionBindings()  # event ids, recorded from the queue's answers
        self.upload_ids = SessionBindings()
        self.functions = functions

    # ---- before the body ----------------------------------------------------------------------

    async def check(self, scope: Scope, headers: dict[str, str], path: str) -> CheckedRequest:
        method = scope.get("method", "GET")
        found = gradio_routes.match(method, path)
        if found.rule is None or found.rule.access is Access.CLOSED:
            raise Refused(404, "Not Found")
        if not found.method_allowed:
            raise Refused(405, "Method Not Allowed")
        rule = found.rule
        write = method not in SAFE_METHODS or path in ("/logout", "/logout/")
        self._check_origin(scope, headers, write=write)
        raw_query = (scope.get("query_string") or b"").decode("latin-1")
        pairs = parse_qsl(raw_query, keep_blank_values=True)
        if rule.access is not Access.STATIC and len({k for k, _ in pairs}) != len(pairs):
            # Two values for one name: this check and Starlette could read different ones.
            raise Refused(400, "a query parameter is repeated")
        if _REMOTE_FILE.match(path) or "deep_link" in dict(pairs):  # Gradio fetches a URL given as a file
            raise Refused(404, "Not Found")
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.body_limit(path)):
            raise Refused(413, "request too large")
        request = CheckedRequest(path, method, rule, found.params, dict(pairs))
        if rule.access in (Access.PAGE, Access.SIGNED_IN):
            try:
                request.user = await self.resolve_user(scope, headers)
            except NotAllowed as e:
                raise Refused(403, str(e)) from None
            scope.setdefault("state", {})["user"] = request.user  # for the access log and the limits
            if request.user is None and rule.access is Access.SIGNED_IN:
                raise Refused(401, "not signed in")
            if request.user is None and self.policy.sign_in_url:
                raise Refused(302, "sign in first", location=self.policy.sign_in_url)
            if request.user is None and self.policy.page_needs_user:
                raise Refused(401, "not signed in: sign in through your organisation's sign-in proxy")
        if request.user is not None:
            self._check_ids(request)
        if path == f"{API}/upload" and method == "POST" and length is None:
            raise Refused(411, "an upload must state its length")
        return request

    def _check_ids(self, request: CheckedRequest) -> None:
        """The ids named in the URL belong to this user (those in a body: bind_body)."""
        user, bind = str(request.user), request.rule.bind
        if bind is Bind.SESSION_QUERY:
            session_hash = request.query.get("session_hash")
            if session_hash is not None and not self.bindings.allowed(session_hash, user):
                raise Refused(403, "this session belongs to another user")
        elif bind is Bind.SESSION_PATH:
            if not self.bindings.claim(request.params["session_hash"], user):
                raise Refused(403, "this session belongs to another user")
        elif bind is Bind.EVENT_PATH:
            owner = self.events.owner(request.params["event_id"])
            if owner != user:
                raise Refused(404 if owner is None else 403, "no such event of yours")
        elif bind is Bind.UPLOAD_QUERY:
            upload_id = request.query.get("upload_id")
            if upload_id is not None and not self.upload_ids.claim(upload_id, user):
                raise Refused(403, "this upload belongs to another user")
        api_name = request.params.get("api_name")
        call = request.rule.path.startswith(f"{API}/call/")
        if call and api_name is not None and self.functions is not None and api_name not in self.functions.api_names:
            raise Refused(404, "no such function")

    def body_limit(self, path: str) -> int:
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
                raise Refused(403, "cross-origin request refused")
        elif headers.get("sec-fetch-site") == "cross-site":
            raise Refused(403, "cross-origin request refused")

    def check_metrics(self, scope: Scope, headers: dict[str, str]) -> None:
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
        raise Refused(403, "metrics are not available from this address")

    # ---- the body and the answer --------------------------------------------------------------

    async def bind_body(self, receive: Receive, request: CheckedRequest, limit: int) -> Receive:
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
                raise Refused(413, "request too large")
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        try:
            data = json.loads(body, object_pairs_hook=_unique_keys)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise Refused(400, "the body must be one JSON object")
        session_hash = data.get("session_hash")
        if session_hash is not None and not (isinstance(session_hash, str) and self.bindings.claim(session_hash, user)):
            logger.warning("refused a session hash of another user user={}", user)
            raise Refused(403, "this session belongs to another user")
        request.session_hash = session_hash or None
        if request.rule.path == f"{API}/cancel":
            event_id = data.get("event_id")
            if event_id is not None and self.events.owner(str(event_id)) != user:
                raise Refused(403, "this event belongs to another user")
        fn_index = data.get("fn_index")
        fn = fn_index if isinstance(fn_index, int) and not isinstance(fn_index, bool) else None
        functions = self.functions
        if request.rule.path == f"{API}/queue/join" and functions is not None and fn not in functions.ids:
            raise Refused(422, "no such function")
        # /run and /api: only a function made to run outside the queue (Gradio would run any fn_index).
        direct = request.rule.path.startswith((f"{API}/run/", f"{API}/api/"))
        if direct and (functions is None or fn not in functions.direct):
            raise Refused(404, "Not Found")
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay

    def record_event(self, body: bytes, status: int, user: str) -> None:
        """An answer naming an event id ({"event_id": ...}): the event is this user's."""
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


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("a key is repeated")  # as with query parameters: two readers, two values
    return dict(pairs)


def cookie_value(headers: dict[str, str], name: str) -> str | None:
    """The cookie `name` of a request's headers (lower-case keys), or None."""
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


def origin_of(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()
