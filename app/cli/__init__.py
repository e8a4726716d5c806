"""Command line: serve, ingest, ask, eval, users, groups, tokens, quotas, documents, feedback, reindex, db, backup.

Errors are translated here: a domain error prints one line and exits non-zero; anything else is
logged with its traceback to the log file only and reported as one line on stderr. No traceback
ever reaches the terminal: a reader that stops early (`... --json | head -1`) ends the command
quietly with status 141, like any Unix tool killed by SIGPIPE.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from loguru import logger

from app.cli import (
    ask,
    backup,
    db,
    documents,
    evaluate,
    feedback,
    groups,
    ingest,
    quotas,
    reindex,
    serve,
    tokens,
    users,
)
from app.config import Settings, load_settings
from app.errors import AppError, ConfigError, StoreLockedError
from app.logging import setup_logging

COMMANDS = (serve, ingest, ask, evaluate, users, groups, tokens, quotas, documents, feedback, reindex, db, backup)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description="PDF question answering with citations")
    parser.add_argument("--config", type=Path, help="config file (default: $APP_CONFIG or ./config.yaml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log to the terminal at INFO level")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what the shell reports for a writer whose reader left


def main(argv: Sequence[str] | None = None) -> int:
    # Everything the app writes (database, originals, vectors, logs) is for this user only.
    os.umask(0o077)
    try:
        return _main(argv)
    except BrokenPipeError:
        _stdout_to_devnull()
        return EXIT_BROKEN_PIPE


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except AppError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # no log file yet to hold the details
        print(f"error: the configuration could not be read ({type(e).__name__})", file=sys.stderr)
        return 2
    _setup_logging(settings, args)
    _route_uncaught_exceptions()
    try:
        code = int(args.handler(settings, args) or 0)
        sys.stdout.flush()  # a reader that left shows here, inside the handling below
        return code
    except BrokenPipeError:
        raise
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
        logger.bind(file_only=True).exception("unexpected failure command={}", args.command)
        print(f"error: unexpected failure; details are in {_log_file(settings)}", file=sys.stderr)
        return 1


def _stdout_to_devnull() -> None:
    """The Python documentation's recipe for SIGPIPE: point stdout at /dev/null so the interpreter's
    last flush at exit does not fail a second time."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _route_uncaught_exceptions() -> None:
    """An exception nobody caught (in a thread of the server, say) goes to the log file with its
    traceback and to the console as one line, like every other error."""

    def log(kind: str, exc: BaseException | None, tb: TracebackType | None, where: str = "") -> None:
        if exc is None:
            return
        logger.opt(exception=(type(exc), exc, tb)).error("uncaught exception kind={} where={}", kind, where or "-")

    def main_hook(t: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        log("main", exc, tb)

    def thread_hook(hook_args: threading.ExceptHookArgs) -> None:
        if hook_args.exc_type is SystemExit:
            return
        log("thread", hook_args.exc_value, hook_args.exc_traceback, hook_args.thread.name if hook_args.thread else "")

    sys.excepthook = main_hook
    threading.excepthook = thread_hook


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
