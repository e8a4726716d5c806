"""The web app: FastAPI with /healthz, /readyz and /metrics, and the Gradio Blocks mounted at /
behind the login callback."""

from __future__ import annotations

import html
import ipaddress
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import gradio as gr
import uvicorn
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response
from loguru import logger
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest, make_asgi_app
from starlette.routing import Mount
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app import app_version, metrics, telemetry
from app.api import ApiDispatch, build_api
from app.auth import passwords
from app.auth.groups import GroupService
from app.auth.login import LOGIN_NAME_KEY, LoginService, bootstrap_admin
from app.auth.oidc import OidcClient
from app.auth.sessions import GradioTokens
from app.config import Settings
from app.container import Container
from app.errors import ConfigError
from app.storage.app_keys import installation_key
from app.web.auth_routes import COOKIE_ID, COOKIE_NAME, auth_router
from app.web.edge import EdgeMiddleware
from app.web.edge_checks import EdgePolicy, KnownFunctions, UserResolver, cookie_sessions, origin_of
from app.web.export_route import export_router
from app.web.gradio_limits import install_gradio_limits
from app.web.header_users import HeaderUsers
from app.web.health import health_router
from app.web.hf_session import HfSessionUsers
from app.web.identity import hf_allowed
from app.web.oidc_routes import oidc_router
from app.web.services import WebServices
from app.web.session_bindings import SessionBindings
from app.web.tracing import RequestContextMiddleware
from app.web.ui.assets import CITE_CLICK_JS, CSS
from app.web.ui.i18n import I18N
from app.web.ui.layout import build_blocks
from app.web.uploads import UploadLedger


def create_app(container: Container) -> FastAPI:
    """Build the whole web app from a container; fails at once on misconfiguration."""
    settings = container.settings
    hf_oauth = settings.auth.mode == "hf_oauth"
    header_mode = settings.auth.mode == "trusted_header"
    if header_mode and not settings.server.trusted_proxies:
        raise ConfigError(
            "auth.mode trusted_header believes a user header only from server.trusted_proxies, and none is set: "
            "list the address of the authenticating proxy there"
        )
    if not hf_oauth and container.users.count() == 0:
        bootstrap_admin(container.users, settings)  # `serve` did it already; other callers may not
    # Open the stores, load the models and validate chunking before serving anyone.
    _ = container.vector_store, container.ingestion, container.answers
    container.embedder.load()  # loaded on first use elsewhere; a server pays it before its first question
    passwords.prepare()
    if telemetry.setup(settings.otel.endpoint, settings.otel.service_name, app_version(), settings.otel.sample_ratio):
        telemetry.instrument_database(container.db.engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Finish documents an earlier process left half-indexed, without delaying start-up.
        jobs = container.ingest_queue.unfinished()
        threading.Thread(
            target=container.ingestion.resume,
            kwargs={"skip": lambda doc: (doc.owner, doc.sha256) in jobs},
            name="resume",
            daemon=True,
        ).start()
        container.sessions.purge_expired()
        container.retention.start()  # retention.conversations_days: daily, one instance of all
        yield
        container.close()
        telemetry.shutdown()

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.include_router(health_router(container))
    app.include_router(export_router(container.data_export, settings.data_dir / "tmp" / "exports"))
    app.add_api_route("/metrics", _metrics, include_in_schema=False)  # the path scrapers use by default
    app.mount("/metrics", make_asgi_app())
    metrics.ACTIVE_SESSIONS.set_function(container.sessions.count_active)  # read at each scrape
    container.recent_errors.attach()  # the admin console's "last 50 errors"
    public_https = bool(settings.server.public_url and settings.server.public_url.startswith("https://"))
    if not hf_oauth and not header_mode:
        login = LoginService(
            container.users,
            container.login_throttle,
            container.sessions,
            on_result=lambda result: metrics.LOGINS.labels(result).inc(),
            name_hash_key=installation_key(container.db, LOGIN_NAME_KEY),
        )
        max_age = int(settings.auth.session_max_hours * 3600)
        oidc = settings.auth.oidc
        password_logins = oidc.local_passwords or not oidc.enabled
        app.include_router(
            auth_router(login, container.sessions, max_age, force_secure=public_https, passwords=password_logins)
        )
        if oidc.enabled:
            key = installation_key(container.db, OIDC_COOKIE_KEY)
            app.include_router(
                oidc_router(
                    OidcClient(oidc),
                    login,
                    key,
                    max_age,
                    public_https,
                    settings.server.public_url,
                    sync_groups=GroupService(container.db).sync,
                )
            )

    uploads = UploadLedger(gradio_upload_folder())
    blocks = build_blocks(WebServices.from_container(container), settings, uploads=uploads, hf_oauth=hf_oauth)
    # api_open=False: Gradio's direct routes (/run, /api) refuse every queued function (the edge too).
    blocks.queue(default_concurrency_limit=settings.server.concurrency, api_open=False)
    _no_queue_analytics(blocks)
    app = gr.mount_gradio_app(
        app,
        blocks,
        path="/",
        # Logins go through our /login route; Gradio only needs to know that a login is required.
        auth=None if hf_oauth or header_mode else _refuse_direct_login,
        auth_message=auth_message(settings),
        blocked_paths=[str(settings.data_dir.resolve())],
        show_error=False,  # only gr.Error messages (written for users) reach the browser
        max_file_size=f"{int(settings.documents.max_file_mb)}mb",
        ssr_mode=False,
        i18n=I18N,
        css=CSS,
        js=CITE_CLICK_JS,  # which [n] marker of an answer was clicked (app/web/ui/assets.py)
        footer_links=[],
        run_history=False,
    )
    # mount_gradio_app leaves has_launched False, which turns off Gradio's own check that a file
    # handed to an event lies in its upload folder; the handlers check again (app/web/uploads.py).
    blocks.has_launched = True
    gradio_app = _mounted_gradio_app(app)
    gradio_app.cookie_id = COOKIE_ID
    gradio_app.tokens = GradioTokens(container.sessions)
    resolve_user: UserResolver = cookie_sessions(container.sessions.resolve, COOKIE_NAME)
    if hf_oauth:
        # The same rules as password mode: the edge and Gradio's login check both know the signed-in
        # (and allowed) Hugging Face user; a stranger is refused everything but the sign-in.
        auth = settings.auth
        hf_users = HfSessionUsers(
            gradio_app, lambda info: hf_allowed(info, auth.allowed_users, auth.allowed_orgs, auth.allow_any_hf_user)
        )
        gradio_app.auth_dependency = hf_users.gradio_user
        resolve_user = hf_users
    if header_mode:
        header_users = HeaderUsers(
            container.users, GroupService(container.db), settings.auth.user_header, settings.auth.groups_header
        )
        gradio_app.auth_dependency = header_users.gradio_user
        resolve_user = header_users
    install_gradio_limits(app, gradio_app, blocks, settings)  # per-user tabs and queued events, inside the edge
    if not settings.server.allowed_origins:
        # With a CORSMiddleware on the parent app Gradio adds no CORS headers of its own.
        app.add_middleware(CORSMiddleware, allow_origins=[], allow_credentials=False)
    app.add_middleware(
        EdgeMiddleware,
        policy=_edge_policy(settings, public_https, hf_oauth),
        resolve_user=resolve_user,
        uploads=uploads,
        bindings=SessionBindings(),
        functions=KnownFunctions(
            ids=frozenset(blocks.fns),
            api_names=frozenset(f.api_name for f in blocks.fns.values() if f.api_name),
            direct=frozenset(i for i, f in blocks.fns.items() if not f.queue),
        ),
    )
    # /api/v1 and /v1 (bearer tokens) are served by the API's own app, ahead of the browser's edge.
    app.add_middleware(ApiDispatch, api=build_api(container))
    if settings.server.allowed_origins:
        # Outside the edge, which allows no OPTIONS: a listed origin's preflight is answered here
        # (inside it, every preflight got 405 and browsers refused the origin's JSON calls).
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.server.allowed_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST"],
            allow_headers=["*"],
        )
    proxies = settings.server.trusted_proxies
    if proxies:
        # Forwarded headers applied here, inside the request-id middleware, so that one still sees
        # the connection's own peer (uvicorn's own copy of this middleware is off, see serve()).
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(proxies))
    app.add_middleware(RequestContextMiddleware, trusted_proxies=proxies)
    telemetry.instrument_web_app(app)  # outermost: the request id and access line fall inside its span
    return app


AUTH_MESSAGE = (
    "PDF Q&A — sign in / ログイン<br><small>After 5 wrong passwords, wait a minute. / "
    "5 回続けて間違えると 1 分お待ちください。</small>"
)
OIDC_COOKIE_KEY = "oidc-pending-login"  # installation key (app/storage/app_keys.py) sealing a sign-in's state


def auth_message(settings: Settings) -> str:
    """The sign-in page's text: with single sign-on, its link (the operator's label, escaped)."""
    oidc = settings.auth.oidc
    if not oidc.enabled:
        return AUTH_MESSAGE
    link = f'<a id="sso-link" href="/login/oidc"><b>{html.escape(oidc.button_label)}</b></a>'
    return f"PDF Q&A — {link}" if not oidc.local_passwords else f"{AUTH_MESSAGE}<br>{link}"


def _refuse_direct_login(_username: str, _password: str) -> bool:
    """Gradio's own /login is shadowed by ours; should it ever be reached, it admits nobody."""
    return False


def _metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def _mounted_gradio_app(app: FastAPI) -> Any:
    for route in app.routes:
        if isinstance(route, Mount) and route.path == "" and hasattr(route.app, "tokens"):
            return route.app
    raise RuntimeError("the Gradio app is not mounted at /")


def gradio_upload_folder() -> str:
    from gradio.utils import get_upload_folder

    return get_upload_folder()


def _edge_policy(settings: Settings, public_https: bool, hf_oauth: bool) -> EdgePolicy:
    docs = settings.documents
    sso_only = settings.auth.oidc.enabled and not settings.auth.oidc.local_passwords
    token = settings.metrics.token
    return EdgePolicy(
        cookie_name=COOKIE_NAME,
        public_origin=origin_of(settings.server.public_url),
        allowed_origins=frozenset(settings.server.allowed_origins),
        max_request_bytes=settings.server.max_request_kb * 1024,
        max_upload_bytes=int(min(docs.max_file_mb * docs.max_upload_files, docs.max_pending_upload_mb) * 1048576)
        + 64 * 1024,  # multipart headers
        max_upload_files=docs.max_upload_files,
        max_pending_upload_bytes=int(docs.max_pending_upload_mb * 1048576),
        metrics_networks=[ipaddress.ip_network(n, strict=False) for n in settings.metrics.allowed_networks],
        metrics_token=token.get_secret_value() if token else None,
        https=public_https,
        sign_in_url="/login/huggingface" if hf_oauth else "/login/oidc" if sso_only else None,
        page_needs_user=settings.auth.mode == "trusted_header",
    )


def _no_queue_analytics(blocks: gr.Blocks) -> None:
    """Gradio's queue recomputes its monitoring summary (a pandas group-by and percentiles over the
    last 10,000 events) after every event by default: 11 % of the server's CPU under load, for a
    dashboard this app does not serve. Compute it never; /metrics has the app's own figures."""
    queue = getattr(blocks, "_queue", None)
    if queue is None or not hasattr(queue, "ANAYLTICS_CACHE_FREQUENCY"):
        logger.warning("gradio queue analytics could not be turned off (a Gradio change?)")
        return
    queue.ANAYLTICS_CACHE_FREQUENCY = 2**62
    queue.ANALYTICS_MAX_EVENTS = 1


def serve(container: Container) -> None:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no phoning home from a private server
    settings = container.settings
    app = create_app(container)
    host, port = settings.server.host, settings.server.port
    logger.info("serving host={} port={} data_dir={}", host, port, settings.data_dir)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        # Forwarded headers count only from server.trusted_proxies, applied inside the app (create_app);
        # uvicorn's own would trust 127.0.0.1 by default and hide the peer from the request-id check.
        proxy_headers=False,
        timeout_graceful_shutdown=5,
        timeout_keep_alive=settings.server.keep_alive_s,
    )
