"""`serve [--host H] [--port P]`: the web app (Gradio behind a login, plus /healthz and /readyz)."""

from __future__ import annotations

import argparse
from typing import Any

from app.auth.login import bootstrap_admin
from app.config import Settings
from app.container import Container


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="start the web app")
    p.add_argument("--host", help="bind address (default: server.host, 0.0.0.0)")
    p.add_argument("--port", type=int, help="port (default: server.port, 7860)")
    p.set_defaults(handler=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    server = settings.server.model_copy(update={k: v for k, v in (("host", args.host), ("port", args.port)) if v})
    settings = settings.model_copy(update={"server": server})
    container = Container(settings)  # the server closes it when it stops (app/web/server.py)
    container.files.ping()  # a missing bucket or wrong credentials stop the start with one line
    if settings.auth.mode == "password":
        bootstrap_admin(container.users, settings)  # before the slow imports: fail fast without users

    from app.web.server import serve

    serve(container)
    return 0
