"""A request rate per key (a personal access token) shared by every instance of the app.

The counts live in the database, in the quota counters' table: one row per key and minute
(metric `api_requests`, owner `rate:<key>`, period the minute since the epoch), taken with the
quotas' conditional UPDATE (app/usage/quota_store.py). So N instances sharing a database admit at
most the limit between them, where a count in each process would admit N times it. The window
slides: the previous minute's count weighs by the share of it still inside the last 60 seconds, so
a burst at a minute's end does not buy a second full minute's worth at the next one's start.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from sqlalchemy.orm import Session

from app.storage.db import Database
from app.usage import quota_store

METRIC = "api_requests"
WINDOW_S = 60


class SharedRateLimiter:
    def __init__(self, db: Database, per_minute: int, clock: Callable[[], float] = time.time) -> None:
        self.per_minute = per_minute
        self._db = db
        self._clock = clock
        self._swept = -1  # the last minute this process deleted older counters in
        self._lock = threading.Lock()

    def admit(self, key: str) -> float:
        """0 when the request may go on (it is counted), else the seconds until one may."""
        now = self._clock()
        minute, into = divmod(now, WINDOW_S)
        owner, this, last = f"rate:{key}"[:64], _period(minute), _period(minute - 1)
        with self._db.session() as s:
            carried = quota_store.used(s, owner, METRIC, last) * (WINDOW_S - into) / WINDOW_S
            ceiling = math.floor(self.per_minute - carried)
            if ceiling >= 1 and quota_store.take(s, owner, METRIC, this, 1, ceiling):
                self._sweep(s, minute)
                return 0.0
            current = quota_store.used(s, owner, METRIC, this)
        return _wait(self.per_minute, carried, current, into)

    def _sweep(self, s: Session, minute: float) -> None:
        """Once a minute per process: forget the counters no window reads any more."""
        with self._lock:
            if self._swept == minute:
                return
            self._swept = int(minute)
        quota_store.sweep(s, METRIC, _period(minute - 1))


def _period(minute: float) -> str:
    return f"{int(minute):010d}"  # fixed width: periods compare as strings


def _wait(per_minute: int, carried: float, current: int, into: float) -> float:
    """Seconds until the sliding count falls below the limit, as far as this minute's requests allow
    (else the minute's end)."""
    room = per_minute - 1 - current  # what of the limit the previous minute may still take
    if carried <= 0 or room < 0:
        return WINDOW_S - into
    per_second = carried / (WINDOW_S - into)  # the previous minute's weight falls linearly
    return max(0.5, min(WINDOW_S - into, (carried - room) / per_second))
