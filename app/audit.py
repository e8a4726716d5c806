"""The audit log: one JSON line per security-relevant event, in a sink of its own.

Events: login (ok / failed / throttled), logout, user created / changed / removed, quota changed,
document uploaded / deleted, personal key set / cleared (never the key), backup / restore, reindex.
Each line has the time, the event, the actor (a username, `cli:<os user>` or `system`), the client
address, the target and the outcome, and the request id when there is one. Written to
`<data_dir>/logs/audit.log` (rotated and kept `audit.retention_days`), and also to stdout when
`log_json` is on; never into the main log. Secrets and document text are never arguments here.

One event is one line, whatever its fields hold: lines are JSON with every non-ASCII character
escaped (`encode`), so no line or paragraph separator (U+2028, U+0085, \x1e, ...) and no lone
surrogate can ever be written raw. The reader splits on "\n" only and skips, and counts, any line
that is not a JSON object (a damaged or hand-edited file): one bad line never hides the others.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loguru import logger


def audit(
    event: str,
    actor: str | None,
    *,
    outcome: str = "ok",
    target: str | None = None,
    client: str | None = None,
    **details: str | int | float | bool | None,
) -> None:
    record: dict[str, Any] = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "event": event,
        "actor": actor or "-",
        "client": client,
        "target": target,
        "outcome": outcome,
    }
    record.update({k: v for k, v in details.items() if v is not None})
    # The request id is bound by app/web/tracing.py; picked up from the context at emit time.
    logger.bind(audit=True).patch(_add_request_id(record)).info("audit")


def _add_request_id(record: dict[str, Any]) -> Any:
    def patch(r: Any) -> None:
        rid = r["extra"].get("request_id")
        if rid and rid != "-":
            record["request_id"] = rid
        r["extra"]["audit_line"] = encode(record)

    return patch


def cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name in some containers
        return "cli"


def is_audit(record: Any) -> bool:
    return bool(record["extra"].get("audit"))


def encode(record: dict[str, Any]) -> str:
    """One event as one line of ASCII JSON (no raw separator of any kind inside it)."""
    return json.dumps(record, ensure_ascii=True, default=str)


def decode(line: str) -> dict[str, Any] | None:
    """The event on a line, or None for a line that is not a JSON object."""
    try:
        item = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return item if isinstance(item, dict) else None


@dataclass
class AuditPage:
    """The events found, newest first, and how many non-empty lines were skipped as unreadable."""

    events: list[dict[str, Any]] = field(default_factory=list)
    skipped: int = 0


def read(path: Path, event: str | None = None, actor: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """The newest `limit` lines matching the filters, newest first (for the admin console)."""
    return read_page(path, event=event, actor=actor, limit=limit).events


def read_page(path: Path, event: str | None = None, actor: str | None = None, limit: int = 200) -> AuditPage:
    """As `read`, also counting the unreadable lines met on the way (logged as a warning)."""
    page = AuditPage()
    for line in _lines_newest_first(path):
        if not line.strip():
            continue
        item = decode(line)
        if item is None:
            page.skipped += 1
            continue
        if (event is None or item.get("event") == event) and (actor is None or item.get("actor") == actor):
            page.events.append(item)
            if len(page.events) >= limit:
                break
    if page.skipped:
        logger.warning("audit log lines skipped reason=not_a_json_object count={} file={}", page.skipped, path.name)
    return page


def _lines_newest_first(path: Path) -> Iterator[str]:
    # loguru names a rotated file audit.<time>.log: the current file and those, newest first.
    found = {*path.parent.glob(f"{path.stem}.*{path.suffix}"), *path.parent.glob(path.name + "*")}
    for file in sorted(found, key=_modified, reverse=True):
        try:
            data = file.read_bytes()
        except OSError:  # rotated away or removed by retention since the listing
            continue
        # Split on "\n" alone: text mode and str.splitlines() would also break lines at "\r",
        # U+2028, U+0085, \x1c-\x1e ... that an older writer may have left inside a line.
        yield from reversed(data.decode("utf-8", errors="replace").split("\n"))


def _modified(file: Path) -> float:
    try:
        return file.stat().st_mtime
    except OSError:
        return 0.0
