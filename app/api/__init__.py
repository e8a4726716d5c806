"""The programmatic doors: the REST API under /api/v1 and the OpenAI-compatible /v1, both behind
personal access tokens (app/auth/tokens.py); docs/api.md is the user's guide.

`build_api` makes a FastAPI app of its own (its OpenAPI schema at /api/v1/openapi.json, its docs
page at /api/v1/docs with Swagger UI served by the app itself, app/api/docs_page.py); `ApiDispatch`
hands it the requests for its paths ahead of the web app's edge (app/web/edge.py), whose rules are
the browser's (session cookies, Gradio's routes). The API applies its own: a bearer token on every
route, body sizes bounded before they are read, and security headers; the request id, the access
line and CORS stay those of the whole app.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI

from app.api import ask, docs_page, documents, openai_compat
from app.api.auth import TokenAuth, UserSlots
from app.api.errors import ERROR_RESPONSES, install_error_handlers
from app.api.services import ApiServices
from app.container import Container
from app.usage.rate_limit import SharedRateLimiter

PREFIX = "/api/v1"
OPENAI_PREFIX = "/v1"
DOCS = f"{PREFIX}/docs"
TITLE = "PDF Q&A API"
CSP = "default-src 'none'; frame-ancestors 'none'"
DOCS_CSP = docs_page.docs_csp()

Scope = dict[str, Any]


def build_api(container: Container) -> FastAPI:
    services = ApiServices.from_container(container)
    auth = TokenAuth(services.tokens, SharedRateLimiter(container.db, services.rate_limit_per_minute))
    read, ask_scope, write = auth.require("read"), auth.require("ask"), auth.require("write")
    api = FastAPI(
        title=TITLE,
        version="1",
        description="Your documents, questions and conversations. Every route needs "
        "`Authorization: Bearer <personal access token>` (Settings, or `python -m app tokens create`).",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=None,  # served by docs_page, without a CDN
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    install_error_handlers(api)
    slots = UserSlots(services.asks_per_user)  # one count for both doors
    v1 = APIRouter(prefix=PREFIX, responses=ERROR_RESPONSES)
    v1.include_router(documents.router(services, read, write))
    v1.include_router(ask.router(services, read, ask_scope, slots))
    api.include_router(v1)
    api.include_router(docs_page.router(DOCS, f"{PREFIX}/openapi.json", TITLE))
    api.include_router(
        openai_compat.router(services, read, ask_scope, slots), prefix=OPENAI_PREFIX, responses=ERROR_RESPONSES
    )
    api.state.max_upload_bytes = services.max_file_bytes + 64 * 1024  # + the multipart headers
    api.state.max_body_bytes = services.max_body_bytes  # anything else: a question, a completion's messages
    return api


def is_api_path(path: str) -> bool:
    return path in (PREFIX, OPENAI_PREFIX) or path.startswith((PREFIX + "/", OPENAI_PREFIX + "/"))


class ApiDispatch:
    """ASGI middleware: requests for the API's paths go to the API (bounded and with its headers),
    everything else to the app it wraps."""

    def __init__(self, app: Any, api: FastAPI) -> None:
        self.app = app
        self.api = api

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not is_api_path(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        upload = scope.get("method") == "POST" and path == f"{PREFIX}/documents"
        limit = int(self.api.state.max_upload_bytes if upload else self.api.state.max_body_bytes)
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _too_large(send, limit)
            return
        csp = (DOCS_CSP if path == DOCS else CSP).encode()
        cache = docs_page.ASSET_CACHE if docs_page.is_asset(path, DOCS) else b"no-store"
        state = {"bytes": 0, "cut": False, "started": False}

        async def bounded_receive() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                state["bytes"] += len(message.get("body", b""))
                if state["bytes"] > limit:  # a chunked body that outgrows its limit
                    state["cut"] = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Any) -> None:
            if state["cut"]:
                return
            if message["type"] == "http.response.start":
                state["started"] = True
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"content-security-policy", csp),
                    (b"referrer-policy", b"no-referrer"),
                ]
                raw = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                message = {**message, "headers": [*raw, *extra, (b"cache-control", cache)]}
            await send(message)

        try:
            await self.api(scope, bounded_receive, guarded_send)
        except Exception:
            # Starlette re-raises an unexpected error after its handler (app/api/errors.py) has
            # logged it and answered; raised on, the server would log it a second time.
            if not (state["cut"] or state["started"]):
                raise
        if state["cut"] and not state["started"]:
            await _too_large(send, limit)


async def _too_large(send: Any, limit: int) -> None:
    import json

    body = json.dumps(
        {
            "error": {
                "code": "too_large",
                "type": "too_large",
                "message": f"the request body may have at most {limit} bytes",
            }
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-content-type-options", b"nosniff"),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
