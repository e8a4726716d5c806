"""The last errors of this instance, for the admin console (each with its reference id, the request
id users see in "something went wrong (ref …)"). Kept in memory on purpose: they are also in the log
file, and each instance shows its own."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from loguru import logger


class RecentErrors:
    def __init__(self, size: int = 50) -> None:
        self._items: deque[dict[str, str]] = deque(maxlen=size)
        self._lock = threading.Lock()
        self._sink_id: int | None = None

    def attach(self) -> None:
        """Start collecting ERROR (and worse) log records."""
        if self._sink_id is None:
            self._sink_id = logger.add(self._sink, level="ERROR", filter=lambda r: not r["extra"].get("audit"))

    def _sink(self, message: Any) -> None:
        record = message.record
        exc = record["exception"]
        with self._lock:
            self._items.appendleft(
                {
                    "time": record["time"].strftime("%Y-%m-%d %H:%M:%S"),
                    "ref": str(record["extra"].get("request_id") or "-"),
                    "where": f"{record['name']}:{record['function']}",
                    "message": (str(record["message"]).split("\n", 1)[0])[:300],
                    "error": exc.type.__name__ if exc and exc.type else "",
                }
            )

    def list(self) -> list[dict[str, str]]:
        with self._lock:
            return list(self._items)
