"""The API's per-token rate limit is shared by every instance (issue 30): two limiters on two
connections to one database, SQLite and PostgreSQL, as two app instances would hold them, admit
the limit between them, not each; the window slides over the minute's boundary; old counters go."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.storage.db import Database, QuotaCounter
from app.usage.rate_limit import METRIC, SharedRateLimiter
from tests.fixtures.postgres import fresh_database

LIMIT = 5


@pytest.fixture(params=["sqlite", "postgresql"])
def two_instances(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Database, Database]]:
    def pair(url: str) -> Iterator[tuple[Database, Database]]:
        first, second = Database(url), Database(url)
        first.create_all()
        yield first, second
        first.close()
        second.close()

    if request.param == "sqlite":
        yield from pair(f"sqlite:///{tmp_path / 'app.db'}")
    else:
        with fresh_database() as url:
            yield from pair(url)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _counters(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(QuotaCounter).where(QuotaCounter.metric == METRIC)))


def test_two_instances_admit_the_limit_between_them_and_the_window_slides(
    two_instances: tuple[Database, Database],
) -> None:
    clock = Clock(1_800_000_000.0 + 50)  # 50 s into a minute
    a, b = (SharedRateLimiter(db, LIMIT, clock) for db in two_instances)
    answers = [(a if i % 2 else b).admit("token-1") for i in range(LIMIT + 3)]
    assert answers[:LIMIT] == [0.0] * LIMIT and all(w > 0 for w in answers[LIMIT:])
    assert a.admit("token-2") == 0.0  # another token has its own count

    clock.now += 20  # 10 s into the next minute: 5/6 of the last minute's 5 still weigh (4.2)
    assert a.admit("token-1") > 0
    clock.now += 30  # 40 s in: a third of them weigh (1.7): three requests fit
    assert [b.admit("token-1") for _ in range(4)][:3] == [0.0] * 3
    assert a.admit("token-1") > 0

    clock.now += 120  # two minutes later nothing weighs, and the old minutes' counters are deleted
    assert a.admit("token-1") == 0.0
    assert _counters(two_instances[0]) == 1


def test_simultaneous_requests_on_both_instances_never_pass_the_limit(
    two_instances: tuple[Database, Database],
) -> None:
    clock = Clock(1_800_000_000.0)
    limiters = [SharedRateLimiter(db, LIMIT * 4, clock) for db in two_instances]
    admitted: list[float] = []
    lock = threading.Lock()

    def hammer(limiter: SharedRateLimiter) -> None:
        for _ in range(30):
            wait = limiter.admit("token-x")
            with lock:
                admitted.append(wait)

    threads = [threading.Thread(target=hammer, args=(limiters[i % 2],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(w == 0.0 for w in admitted) == LIMIT * 4 and len(admitted) == 120
