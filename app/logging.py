"""loguru set-up, done once at start-up. Messages are key=value; never secrets or document text.

Tracebacks go to the log file only: the console (stderr) gets each record on one line, with the
exception's type name where there is one. A record bound with `file_only=True` stays off the
console altogether (the CLI prints its own one-line message for it)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from loguru import logger

from app.audit import is_audit

_configured = False


class _InterceptHandler(logging.Handler):
    """Route stdlib logging (uvicorn, httpx, qdrant) through loguru so there is one log stream."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.opt(depth=6, exception=record.exc_info).log(level, record.getMessage())


def setup_logging(
    level: str = "INFO",
    json: bool = False,
    log_file: Path | None = None,
    audit_file: Path | None = None,
    audit_retention_days: int = 365,
) -> None:
    """Configure loguru once: stderr, optionally a rotating file with full tracebacks, and the audit
    log (app/audit.py) in a sink of its own."""
    global _configured
    if _configured:
        return
    _configured = True
    logger.remove()
    logger.add(
        sys.stderr,
        level=level.upper(),
        format=_console_format,
        serialize=json,
        backtrace=False,
        diagnose=False,
        filter=_for_console,
    )
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        # diagnose=False: variable values (which may hold keys or text) never reach the file.
        # The plain format carries the bound fields (request_id, user, ...), as the console's does,
        # and the traceback below the line.
        logger.add(
            log_file,
            level="DEBUG",
            rotation="20 MB",
            retention=5,
            serialize=json,
            diagnose=False,
            filter=_not_audit,
            format=_FILE_LINE,
        )
    if audit_file is not None:
        add_audit_sink(audit_file, audit_retention_days)
    if json:
        logger.add(sys.stdout, level="INFO", format="{extra[audit_line]}", filter=is_audit)
    logging.basicConfig(handlers=[_InterceptHandler()], level=logging.WARNING, force=True)
    for noisy in ("httpx", "httpcore", "openai", "urllib3", "sentence_transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # transformers warns about sequence length when we merely count tokens of long sentences.
    logging.getLogger("transformers").setLevel(logging.ERROR)


def add_audit_sink(audit_file: Path, retention_days: int = 365) -> int:
    """The audit log's own file: one line per event, as app/audit.py encoded it. Returns the sink id."""
    audit_file.parent.mkdir(parents=True, exist_ok=True)
    return logger.add(
        audit_file,
        level="INFO",
        format="{extra[audit_line]}",
        filter=is_audit,
        rotation="10 MB",
        retention=f"{retention_days} days",
    )


_LINE = "{time:YYYY-MM-DD HH:mm:ss.SSS} | {level:<7} | {name}:{function} | {message} | {extra}"
_FILE_LINE = _LINE + "\n{exception}"


def _console_format(record: Any) -> str:
    # A format function's result is used as is: without "{exception}" no traceback is printed.
    exc = record["exception"]
    if exc is not None and exc.type is not None:
        return _LINE + f" | error={exc.type.__name__}\n"
    return _LINE + "\n"


def _not_audit(record: Any) -> bool:
    return not is_audit(record)


def _for_console(record: Any) -> bool:
    return not is_audit(record) and not record["extra"].get("file_only")
