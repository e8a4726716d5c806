"""The web app: FastAPI with /healthz, /readyz and /metrics, and the Gradio Blocks mounted at /
behind the login callback."""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import gradio as gr
import uvicorn
from fastapi import FastAPI
from loguru import logger
from prometheus_client import make_asgi_app

from app.auth.login import ClientAddressMiddleware, bootstrap_admin, make_login
from app.auth.throttle import LoginThrottle
from app.container import Container
from app.web import metrics
from app.web.health import health_router
from app.web.services import WebServices
from app.web.ui.handlers import Handlers
from app.web.ui.i18n import I18N
from app.web.ui.layout import CSS, build_blocks


def create_app(container: Container) -> FastAPI:
    """Build the whole web app from a container; fails at once on misconfiguration."""
    settings = container.settings
    hf_oauth = settings.auth.mode == "hf_oauth"
    if not hf_oauth:
        bootstrap_admin(container.users, settings)
    # Open the stores, load the models and validate chunking before serving anyone.
    _ = container.vector_store, container.ingestion, container.answers

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Finish documents an earlier process left half-indexed, without delaying start-up.
        threading.Thread(target=container.ingestion.resume, name="resume", daemon=True).start()
        yield
        container.close()

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.include_router(health_router(container))
    app.mount("/metrics", make_asgi_app())

    handlers = Handlers(WebServices.from_container(container), settings)
    blocks = build_blocks(handlers, settings.llm.user_keys, hf_oauth=hf_oauth)
    blocks.queue(default_concurrency_limit=settings.server.concurrency)
    auth = None
    if not hf_oauth:
        throttle = LoginThrottle(settings.auth.max_failures, settings.auth.lockout_s, settings.auth.hard_lock_failures)
        auth = make_login(
            container.users,
            throttle,
            on_result=lambda ok: metrics.LOGINS.labels("ok" if ok else "refused").inc(),
        )
    app = gr.mount_gradio_app(
        app,
        blocks,
        path="/",
        auth=auth,
        auth_message="PDF Q&A — sign in / ログイン",
        show_error=False,  # only gr.Error messages (written for users) reach the browser
        max_file_size=f"{int(settings.documents.max_file_mb)}mb",
        ssr_mode=False,
        i18n=I18N,
        css=CSS,
    )
    app.add_middleware(ClientAddressMiddleware)
    return app


def serve(container: Container) -> None:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no phoning home from a private server
    settings = container.settings
    app = create_app(container)
    host, port = settings.server.host, settings.server.port
    logger.info("serving host={} port={} data_dir={}", host, port, settings.data_dir)
    uvicorn.run(app, host=host, port=port, log_config=None, proxy_headers=True, timeout_graceful_shutdown=5)
