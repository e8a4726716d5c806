"""Command line: serve, ingest, ask, eval, users, quotas, documents, feedback, reindex, db, backup.

Errors are translated here: a domain error prints one line and exits non-zero; anything else is
logged with its traceback to the log file and reported as one line.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from loguru import logger

from app.cli import ask, backup, db, documents, evaluate, feedback, ingest, quotas, reindex, serve, users
from app.config import Settings, load_settings
from app.errors import AppError, ConfigError, StoreLockedError
from app.logging import setup_logging

COMMANDS = (serve, ingest, ask, evaluate, users, quotas, documents, feedback, reindex, db, backup)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description="PDF question answering with citations")
    parser.add_argument("--config", type=Path, help="config file (default: $APP_CONFIG or ./config.yaml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log to the terminal at INFO level")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Everything the app writes (database, originals, vectors, logs) is for this user only.
    os.umask(0o077)
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except AppError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    _setup_logging(settings, args)
    try:
        return int(args.handler(settings, args) or 0)
    except StoreLockedError as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except AppError as e:
        logger.opt(exception=e).debug("command failed")
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception:
        logger.exception("unexpected failure")
        print(f"error: unexpected failure; details are in {_log_file(settings)}", file=sys.stderr)
        return 1


def _log_file(settings: Settings) -> Path:
    return settings.data_dir / "logs" / "app.log"


def _setup_logging(settings: Settings, args: argparse.Namespace) -> None:
    server = args.command == "serve"
    # A command's own output says what happened (each failed file once, on stderr); its warnings
    # go to the log file, and to the console too with -v.
    level = settings.log_level if (server or args.verbose) else "ERROR"
    setup_logging(
        level=level,
        json=settings.log_json,
        log_file=_log_file(settings),
        audit_file=settings.data_dir / "logs" / "audit.log",
        audit_retention_days=settings.audit_retention_days,
    )
