"""Every route the app serves (its own and those Gradio mounts), and what the edge asks of each.

Gradio mounts some 80 routes; the page uses a dozen. Each one is listed here with the access it
gets; a path that matches none is answered 404 by the edge, so a route a new Gradio version adds
stays closed until it is classified (tests/test_security_round3_edge.py lists the mounted routes
and fails on any that is missing here).

Routes that name a session hash, an event id or an upload id say where it is (`Bind`): the edge
lets only the user who first used such an id use it again (app/web/edge.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

from starlette.routing import compile_path

API = "/gradio_api"


class Access(Enum):
    STATIC = "static"  # the page's own scripts, styles and icons: no session, may be cached
    PUBLIC = "public"  # no session: sign-in and sign-out, health probes, metrics (checked apart)
    PAGE = "page"  # the page: a stranger gets the login form (hf_oauth: is sent to sign in)
    SIGNED_IN = "signed_in"  # a live session of an allowed user, or 401
    CLOSED = "closed"  # 404: direct execution, the token, features this app does not use


class Bind(Enum):
    NONE = "none"
    SESSION_QUERY = "session_query"  # ?session_hash=
    SESSION_PATH = "session_path"  # /{session_hash}
    SESSION_BODY = "session_body"  # JSON body: session_hash (and event_id, fn_index)
    EVENT_PATH = "event_path"  # /{event_id}: an event this user started
    UPLOAD_QUERY = "upload_query"  # ?upload_id=


@dataclass(frozen=True)
class RouteRule:
    methods: frozenset[str]
    path: str  # the path template as mounted, e.g. /gradio_api/heartbeat/{session_hash}
    access: Access
    bind: Bind = Bind.NONE
    regex: re.Pattern[str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", compile_path(self.path)[0])


def _rules(methods: str, paths: str, access: Access, bind: Bind = Bind.NONE) -> list[RouteRule]:
    """One rule per path; `paths` separated by spaces, `methods` by commas."""
    verbs = frozenset(methods.split(","))
    return [RouteRule(verbs, path, access, bind) for path in paths.split()]


S, P, G, IN, X = Access.STATIC, Access.PUBLIC, Access.PAGE, Access.SIGNED_IN, Access.CLOSED
A = API
RULES: list[RouteRule] = [
    # ---- this app's own routes (app/web/health.py, auth_routes.py, server.py) ------------------
    *_rules("GET", "/healthz /readyz /metrics /metrics/{path:path}", P),
    *_rules("POST", "/login /login/", P),
    *_rules("GET", "/logout /logout/", P),
    *_rules("GET", "/login/huggingface /login/callback", P),  # hf_oauth (gradio/oauth.py)
    *_rules("GET", "/login/oidc /login/oidc/callback", P),  # auth.oidc (app/web/oidc_routes.py)
    *_rules("GET", "/export/my-data", IN),  # the user's own data as a zip (app/web/export_route.py)
    # ---- the page and its files --------------------------------------------------------------
    *_rules("GET,HEAD", "/", G),
    *_rules("GET", "/config /config/", IN),
    *_rules("GET", "/svelte/{path:path} /static/{path:path} /assets/{path:path}", S),
    *_rules("GET", "/favicon.ico /theme.css /robots.txt /pwa_icon /pwa_icon/{size} /manifest.json", S),
    *_rules("GET", f"{A}/theme.css", S),
    *_rules("GET", f"{A}/app_id {A}/app_id/", P),  # the page asks before sign-in; in /config anyway
    # ---- what the page and gradio_client use -------------------------------------------------
    *_rules("GET", f"{A}/info {A}/info/ {A}/queue/status", IN),
    *_rules("GET,HEAD", f"{A}/file={{path_or_url:path}}", IN),
    *_rules("GET", f"{A}/file/{{path:path}}", IN),
    *_rules("POST", f"{A}/queue/join {A}/cancel", IN, Bind.SESSION_BODY),
    *_rules("POST", f"{A}/call/{{api_name}} {A}/call/{{api_name}}/", IN, Bind.SESSION_BODY),
    *_rules("GET", f"{A}/queue/data", IN, Bind.SESSION_QUERY),
    *_rules("GET", f"{A}/heartbeat/{{session_hash}}", IN, Bind.SESSION_PATH),
    *_rules("GET", f"{A}/call/{{api_name}}/{{event_id}}", IN, Bind.EVENT_PATH),
    *_rules("POST", f"{A}/upload", IN, Bind.UPLOAD_QUERY),
    *_rules("GET", f"{A}/upload_progress", IN, Bind.UPLOAD_QUERY),
    *_rules("POST", f"{A}/reset {A}/reset/", IN),  # a no-op in Gradio 6
    # Direct execution, outside the queue: only for the functions made to run so (queue=False, e.g.
    # the stop button, which must not wait behind the answer it stops), named by fn_index.
    *_rules("POST", f"{A}/run/{{api_name}} {A}/run/{{api_name}}/", IN, Bind.SESSION_BODY),
    *_rules("POST", f"{A}/api/{{api_name}} {A}/api/{{api_name}}/", IN, Bind.SESSION_BODY),
    # ---- closed ------------------------------------------------------------------------------
    # The same as /call with another body; it would bypass the session binding's body check.
    *_rules("POST", f"{A}/call/v2/{{api_name}} {A}/call/v2/{{api_name}}/", X),
    *_rules("GET", f"{A}/call/v2/{{api_name}}/{{event_id}}", X),
    # Hands the HttpOnly session cookie's value to any script on the page.
    *_rules("GET", f"{A}/token {A}/token/", X),
    # Unused here: streaming components, server functions of components, recordings, run history,
    # deep links, proxied Spaces, custom components, dev reload, monitoring, "vibe" editing,
    # OpenAPI listings, Gradio's own startup trigger (it would run the startup events again).
    *_rules("POST", f"{A}/stream/{{event_id}} {A}/stream/{{event_id}}/close", X),
    *_rules(
        "GET",
        f"{A}/stream/{{session_hash}}/{{run}}/{{component_id}}/playlist.m3u8 "
        f"{A}/stream/{{session_hash}}/{{run}}/{{component_id}}/{{segment_id}}.{{ext}} "
        f"{A}/stream/{{session_hash}}/{{run}}/{{component_id}}/playlist-file",
        X,
    ),
    *_rules("POST", f"{A}/component_server {A}/component_server/ {A}/process_recording", X),
    *_rules("GET", f"{A}/deep_link {A}/runs {A}/runs/ {A}/dev/reload {A}/startup-events", X),
    *_rules("GET,HEAD", f"{A}/proxy={{url_path:path}}", X),
    *_rules("GET", f"{A}/custom_component/{{id}}/{{environment}}/{{type}}/{{file_name}}", X),
    *_rules("GET", f"{A}/user {A}/user/ {A}/login_check {A}/login_check/", X),
    *_rules("GET", "/monitoring /monitoring/summary /monitoring/{key}", X),
    *_rules("POST", f"{A}/vibe-edit {A}/vibe-edit/ {A}/undo-vibe-edit {A}/undo-vibe-edit/", X),
    *_rules("GET,POST", f"{A}/vibe-code {A}/vibe-code/", X),
    *_rules("POST", f"{A}/vibe-starter-queries {A}/vibe-starter-queries/", X),
    *_rules("GET,HEAD", f"/openapi.json {A}/openapi.json", X),
]


@dataclass(frozen=True)
class Match:
    rule: RouteRule | None  # None: no route has this path
    params: dict[str, str]
    method_allowed: bool


def match(method: str, path: str) -> Match:
    """The rule for a request; the first rule whose path matches and that allows the method wins
    (the order of RULES is Starlette's order of the same routes where it matters)."""
    found: RouteRule | None = None
    params: dict[str, str] = {}
    for rule in RULES:
        m = rule.regex.match(path)
        if m is None:
            continue
        if method in rule.methods:
            return Match(rule, m.groupdict(), True)
        if found is None:
            found, params = rule, m.groupdict()
    return Match(found, params, False)


def rule_for(method: str, template: str) -> RouteRule | None:
    """The rule written for exactly this route (method and path template), for the route test."""
    return next((r for r in RULES if r.path == template and method in r.methods), None)
