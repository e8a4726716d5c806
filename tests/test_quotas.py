"""Quota reservations on real databases: atomic under concurrency (SQLite and PostgreSQL), settled
and released, per-user overrides, and daily resets in the configured time zone."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.config import QuotaSettings
from app.errors import QuotaExceeded
from app.storage.db import Database
from app.usage.quotas import UNSET, QuotaService
from tests.fixtures.postgres import fresh_database


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'app.db'}")
        database.create_all()
        yield database
        database.close()
        return
    with fresh_database() as url:
        database = Database(url)
        database.create_all()
        yield database
        database.close()


def hammer(quotas: QuotaService, owner: str, n: int, **amounts: int) -> tuple[int, int]:
    """`n` threads reserve at the same moment; returns (granted, refused)."""
    barrier = threading.Barrier(n)
    results: list[bool] = []
    lock = threading.Lock()

    def one() -> None:
        barrier.wait()
        try:
            quotas.reserve(owner, **amounts)
            ok = True
        except QuotaExceeded:
            ok = False
        with lock:
            results.append(ok)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results.count(True), results.count(False)


def test_simultaneous_reservations_never_overshoot(db: Database) -> None:
    quotas = QuotaService(db, QuotaSettings(questions_per_day=10, tokens_per_day=1000))
    assert hammer(quotas, "alice", 20, questions=1) == (10, 10)
    # Tokens: 30 requests of 70 against 1000 -> exactly 14 fit.
    assert hammer(quotas, "bob", 30, tokens=70) == (14, 16)
    used = {s.key: s.used for s in quotas.status("bob")}
    assert used["tokens_per_day"] == 980


def test_refusal_names_the_limit_and_takes_nothing(db: Database) -> None:
    quotas = QuotaService(db, QuotaSettings(questions_per_day=5, tokens_per_day=100))
    with pytest.raises(QuotaExceeded) as caught:
        quotas.reserve("alice", questions=1, tokens=101)
    e = caught.value
    assert e.limit == "tokens_per_day" and e.value == 100 and e.resets_at is not None
    assert "tokens per day is 100" in str(e)
    # All or nothing: the question reserved before the token check was not kept.
    assert {s.key: s.used for s in quotas.status("alice")}["questions_per_day"] == 0


def test_settle_and_release(db: Database) -> None:
    quotas = QuotaService(db, QuotaSettings(tokens_per_day=1000))
    held = quotas.reserve("alice", questions=1, tokens=800)
    quotas.settle(held, tokens=120)  # the call used less than it reserved
    failed = quotas.reserve("alice", questions=1, tokens=800)
    quotas.release(failed, tokens=30)  # a failed call that had spent 30 tokens
    quotas.settle(failed, tokens=999)  # settling twice changes nothing
    used = {s.key: s.used for s in quotas.status("alice")}
    assert used["tokens_per_day"] == 150 and used["questions_per_day"] == 1


def test_per_user_overrides(db: Database) -> None:
    quotas = QuotaService(db, QuotaSettings(questions_per_day=1))
    quotas.set_limits("alice", questions_per_day=3, documents=None)
    assert quotas.limits("alice")["questions_per_day"] == 3 and quotas.limits("bob")["questions_per_day"] == 1
    assert hammer(quotas, "alice", 5, questions=1) == (3, 2)
    quotas.set_limits("alice", questions_per_day=None)  # unlimited for alice
    quotas.reserve("alice", questions=50)
    quotas.set_limits("alice", questions_per_day=UNSET)  # back to the config's 1 (already used up)
    with pytest.raises(QuotaExceeded):
        quotas.reserve("alice", questions=1)


def test_daily_reset_follows_the_configured_time_zone(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'app.db'}")
    db.create_all()
    now = [datetime(2026, 3, 10, 14, 59, tzinfo=UTC)]  # 23:59 in Tokyo, 14:59 in London
    tokyo = QuotaService(db, QuotaSettings(questions_per_day=1, reset_timezone="Asia/Tokyo"), clock=lambda: now[0])
    utc = QuotaService(db, QuotaSettings(questions_per_day=1), clock=lambda: now[0])
    tokyo.reserve("tokyo-user", questions=1)
    utc.reserve("utc-user", questions=1)
    with pytest.raises(QuotaExceeded) as caught:
        tokyo.reserve("tokyo-user", questions=1)
    assert caught.value.resets_at == datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # midnight in Tokyo
    assert "2026-03-11 00:00 Asia/Tokyo" in str(caught.value)
    now[0] = datetime(2026, 3, 10, 15, 1, tzinfo=UTC)  # a new day in Tokyo, not yet in UTC
    tokyo.reserve("tokyo-user", questions=1)
    with pytest.raises(QuotaExceeded) as caught:
        utc.reserve("utc-user", questions=1)
    assert caught.value.resets_at == datetime(2026, 3, 11, 0, 0, tzinfo=UTC)
    now[0] = datetime(2026, 3, 11, 0, 0, 1, tzinfo=UTC)
    utc.reserve("utc-user", questions=1)
    db.close()


def test_monthly_cost_limit(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'app.db'}")
    db.create_all()
    now = [datetime(2026, 1, 31, 23, 0, tzinfo=UTC)]
    quotas = QuotaService(db, QuotaSettings(cost_per_month=0.5), clock=lambda: now[0])
    quotas.reserve("alice", cost_micro=400_000)
    with pytest.raises(QuotaExceeded) as caught:
        quotas.reserve("alice", cost_micro=200_000)
    assert caught.value.limit == "cost_per_month" and caught.value.resets_at == datetime(2026, 2, 1, tzinfo=UTC)
    now[0] = datetime(2026, 2, 1, 0, 1, tzinfo=UTC)
    quotas.reserve("alice", cost_micro=200_000)
    db.close()


def test_a_reservation_left_by_a_killed_process_is_given_back_once(db: Database) -> None:
    now = [datetime(2026, 3, 1, 9, 0, tzinfo=UTC)]
    quotas = QuotaService(db, QuotaSettings(tokens_per_day=1000), clock=lambda: now[0], hold_ttl_s=600)
    quotas.reserve("alice", questions=1, tokens=900)  # its process is killed: never settled
    with pytest.raises(QuotaExceeded):
        quotas.reserve("alice", questions=1, tokens=900)  # still held within its time
    slow = quotas.reserve("bob", tokens=500)  # a slow answer that outlives its hold
    now[0] = now[0].replace(minute=11)
    # Two instances reserving at once return the dead hold exactly once.
    assert hammer(quotas, "alice", 2, tokens=400) == (2, 0)
    assert {s.key: s.used for s in quotas.status("alice")}["tokens_per_day"] == 800
    quotas.reserve("bob", tokens=1)  # gives back bob's expired hold...
    quotas.settle(slow, tokens=300)  # ...so the slow answer, settling late, is counted in full
    assert {s.key: s.used for s in quotas.status("bob")}["tokens_per_day"] == 301


def test_ingested_pages_stay_counted_after_the_hold_time(db: Database) -> None:
    """Pages are counted for the day, not held: a later reservation that gives back expired holds
    must not give the pages back (they were once returned after 10 minutes, and the limit reopened)."""
    now = [datetime(2026, 3, 1, 9, 0, tzinfo=UTC)]
    quotas = QuotaService(db, QuotaSettings(pages_per_day=30), clock=lambda: now[0], hold_ttl_s=600)
    quotas.take_pages("alice", 26)
    now[0] = now[0].replace(hour=10)  # past the hold time, same day
    quotas.settle(quotas.reserve("alice", questions=1))  # would give back anything expired
    assert {s.key: s.used for s in quotas.status("alice")}["pages_per_day"] == 26
    with pytest.raises(QuotaExceeded):
        quotas.take_pages("alice", 26)


def _refused_until(quotas: QuotaService, owner: str, **amounts: int) -> datetime:
    with pytest.raises(QuotaExceeded) as caught:
        quotas.reserve(owner, **amounts)
    assert caught.value.resets_at is not None
    return caught.value.resets_at


@pytest.mark.parametrize(
    ("start", "resets", "day_hours"),
    [
        # Berlin springs forward on 2026-03-29 (02:00 CET -> 03:00 CEST): a 23-hour day.
        (datetime(2026, 3, 28, 23, 30, tzinfo=UTC), datetime(2026, 3, 29, 22, 0, tzinfo=UTC), 23),
        # Berlin falls back on 2026-10-25 (03:00 CEST -> 02:00 CET): a 25-hour day.
        (datetime(2026, 10, 24, 22, 30, tzinfo=UTC), datetime(2026, 10, 25, 23, 0, tzinfo=UTC), 25),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_a_day_across_a_dst_change_ends_at_local_midnight(
    tmp_path: Path, start: datetime, resets: datetime, day_hours: int
) -> None:
    """The day's counter lives from local midnight to local midnight, however long that day is."""
    db = Database(f"sqlite:///{tmp_path / 'app.db'}")
    db.create_all()
    berlin = ZoneInfo("Europe/Berlin")
    now = [start]  # 00:30 local on the day of the change
    quotas = QuotaService(db, QuotaSettings(questions_per_day=1, reset_timezone="Europe/Berlin"), clock=lambda: now[0])
    day = f"{start.astimezone(berlin):%Y-%m-%d}"
    assert quotas.periods().day == day
    quotas.settle(quotas.reserve("alice", questions=1))  # answered: counted, not merely held
    assert _refused_until(quotas, "alice", questions=1) == resets
    local_midnight = datetime(*start.astimezone(berlin).timetuple()[:3], tzinfo=berlin)
    assert resets - local_midnight.astimezone(UTC) == timedelta(hours=day_hours)
    # An hour before the local midnight (the moment a 24-hour day would have ended on a 25-hour day,
    # or an hour after it on a 23-hour day): still the same day.
    now[0] = resets - timedelta(hours=1)
    assert quotas.periods().day == day
    assert _refused_until(quotas, "alice", questions=1) == resets
    now[0] = resets - timedelta(seconds=1)
    assert _refused_until(quotas, "alice", questions=1) == resets
    now[0] = resets  # local midnight: a new day and a new counter
    assert quotas.periods().day == f"{resets.astimezone(berlin):%Y-%m-%d}" != day
    assert {s.key: s.used for s in quotas.status("alice")}["questions_per_day"] == 0
    quotas.settle(quotas.reserve("alice", questions=1))
    assert [(r[2], r[3]) for r in quotas.daily("alice", "2026-01-01")] == [(day, 1), (quotas.periods().day, 1)]
    db.close()


def test_the_year_ends_at_local_midnight_in_new_york(tmp_path: Path) -> None:
    """Dec 31 -> Jan 1 in America/New_York (UTC-5): the day, the month and the year turn over at
    05:00 UTC, not at UTC's midnight five hours earlier."""
    db = Database(f"sqlite:///{tmp_path / 'app.db'}")
    db.create_all()
    now = [datetime(2026, 12, 31, 23, 0, tzinfo=UTC)]  # 18:00 on Dec 31 in New York
    settings = QuotaSettings(questions_per_day=1, cost_per_month=0.5, reset_timezone="America/New_York")
    quotas = QuotaService(db, settings, clock=lambda: now[0])
    new_year = datetime(2027, 1, 1, 5, 0, tzinfo=UTC)  # midnight in New York
    periods = quotas.periods()
    assert (periods.day, periods.month) == ("2026-12-31", "2026-12")
    assert (periods.day_resets_at, periods.month_resets_at) == (new_year, new_year)
    quotas.settle(quotas.reserve("alice", questions=1, cost_micro=400_000))  # answered: counted, not merely held
    assert _refused_until(quotas, "alice", questions=1) == new_year
    assert _refused_until(quotas, "alice", cost_micro=200_000) == new_year
    with pytest.raises(QuotaExceeded, match="resets at 2027-01-01 00:00 America/New_York"):
        quotas.reserve("alice", questions=1)
    now[0] = datetime(2027, 1, 1, 4, 59, 59, tzinfo=UTC)  # already 2027 in UTC, still 2026 in New York
    assert (quotas.periods().day, quotas.periods().month) == ("2026-12-31", "2026-12")
    assert _refused_until(quotas, "alice", questions=1) == new_year
    assert _refused_until(quotas, "alice", cost_micro=200_000) == new_year
    now[0] = new_year
    periods = quotas.periods()
    assert (periods.day, periods.month) == ("2027-01-01", "2027-01")
    assert periods.day_resets_at == datetime(2027, 1, 2, 5, 0, tzinfo=UTC)
    assert periods.month_resets_at == datetime(2027, 2, 1, 5, 0, tzinfo=UTC)
    used = {s.key: s.used for s in quotas.status("alice")}
    assert used["questions_per_day"] == 0 and used["cost_per_month"] == 0
    quotas.settle(quotas.reserve("alice", questions=1, cost_micro=400_000))
    db.close()


def test_a_month_across_a_dst_change_ends_at_local_midnight(tmp_path: Path) -> None:
    """March in Berlin starts in CET (UTC+1) and ends in CEST (UTC+2): April begins at 22:00 UTC."""
    db = Database(f"sqlite:///{tmp_path / 'app.db'}")
    db.create_all()
    now = [datetime(2026, 3, 1, 0, 30, tzinfo=UTC)]
    quotas = QuotaService(db, QuotaSettings(cost_per_month=0.5, reset_timezone="Europe/Berlin"), clock=lambda: now[0])
    april = datetime(2026, 3, 31, 22, 0, tzinfo=UTC)
    quotas.settle(quotas.reserve("alice", cost_micro=400_000))
    assert _refused_until(quotas, "alice", cost_micro=200_000) == april
    now[0] = april - timedelta(seconds=1)
    assert quotas.periods().month == "2026-03"
    assert _refused_until(quotas, "alice", cost_micro=200_000) == april
    now[0] = april
    assert quotas.periods().month == "2026-04"
    quotas.settle(quotas.reserve("alice", cost_micro=400_000))
    db.close()
