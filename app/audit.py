"""The audit log: one JSON line per security-relevant event, in a sink of its own.

Events: login (ok / failed / throttled), logout, user created / changed / removed, quota changed,
document uploaded / deleted, personal key set / cleared (never the key), backup / restore, reindex.
Each line has the time, the event, the actor (a username, `cli:<os user>` or `system`), the client
address, the target and the outcome, and the request id when there is one. Written to
`<data_dir>/logs/audit.log` (rotated and kept `audit.retention_days`), and also to stdout when
`log_json` is on; never into the main log. Secrets and document text are never arguments here.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
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
        r["extra"]["audit_line"] = json.dumps(record, ensure_ascii=False)

    return patch


def cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name in some containers
        return "cli"


def is_audit(record: Any) -> bool:
    return bool(record["extra"].get("audit"))


def read(path: Path, event: str | None = None, actor: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """The newest `limit` lines matching the filters, newest first (for the admin console)."""
    out: list[dict[str, Any]] = []
    for line in _lines_newest_first(path):
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if (event is None or item.get("event") == event) and (actor is None or item.get("actor") == actor):
            out.append(item)
            if len(out) >= limit:
                break
    return out


def _lines_newest_first(path: Path) -> Iterator[str]:
    # loguru names a rotated file audit.<time>.log: the current file and those, newest first.
    found = {*path.parent.glob(f"{path.stem}.*{path.suffix}"), *path.parent.glob(path.name + "*")}
    files = sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)
    for file in files:
        yield from reversed(file.read_text(encoding="utf-8", errors="replace").splitlines())
