"""`serve [--host H] [--port P]`: the web app (Gradio behind a login, plus /healthz and /readyz)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from app.auth.login import bootstrap_admin
from app.config import Settings
from app.container import Container
from app.errors import ConfigError

# What a Hugging Face Space with `hf_oauth: true` sets; without them Gradio would ask this machine to
# be logged in to Hugging Face and fail deep in the start with a traceback.
SPACE_OAUTH_VARIABLES = ("SPACE_ID", "OAUTH_CLIENT_ID", "OAUTH_CLIENT_SECRET")


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="start the web app")
    p.add_argument("--host", help="bind address (default: server.host, 0.0.0.0)")
    p.add_argument("--port", type=int, help="port (default: server.port, 7860)")
    p.set_defaults(handler=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    if settings.auth.mode == "hf_oauth":
        require_space()
    server = settings.server.model_copy(update={k: v for k, v in (("host", args.host), ("port", args.port)) if v})
    settings = settings.model_copy(update={"server": server})
    container = Container(settings)  # the server closes it when it stops (app/web/server.py)
    container.files.ping()  # a missing bucket or wrong credentials stop the start with one line
    if settings.auth.mode == "password":
        bootstrap_admin(container.users, settings)  # before the slow imports: fail fast without users

    from app.web.server import serve

    serve(container)
    return 0


def require_space() -> None:
    """auth.mode hf_oauth signs users in through the Space's own OAuth app: refuse it elsewhere, in one line."""
    missing = [name for name in SPACE_OAUTH_VARIABLES if not os.environ.get(name)]
    if missing:
        raise ConfigError(
            f"auth.mode hf_oauth works only inside a Hugging Face Space with `hf_oauth: true` in its README "
            f"front matter ({', '.join(missing)} not set); elsewhere use auth.mode password"
        )
