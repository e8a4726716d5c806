"""Per-user quotas, enforced by reservation.

A reservation adds the amount a call may use to the user's counter for the period, refused as a
whole when one counter would pass its limit (app/usage/quota_store.py: one conditional UPDATE per
counter, so simultaneous requests, in one process or several, can never take more than the limit
between them). When the call ends, the reservation is settled with what was really used (or
released when the call failed). Accepted uploads hold their bytes and one document until their
ingestion job ends.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from loguru import logger
from sqlalchemy import delete, select, text

from app.config import QuotaSettings
from app.errors import ConfigError, NotFound, QuotaExceeded
from app.storage.db import Database, QuotaCounter, QuotaHold, UserQuota
from app.usage import quota_store
from app.usage.periods import Periods, utc_now
from app.usage.pricing import MICRO
from app.usage.quota_store import UPLOAD_METRIC, upload_hold_id

# quota key -> (counter metric, period, scale from the key's unit to the counter's integer unit)
COUNTED: dict[str, tuple[str, str, int]] = {
    "questions_per_day": ("questions", "day", 1),
    "tokens_per_day": ("tokens", "day", 1),
    "cost_per_month": ("cost_micro", "month", MICRO),
    "pages_per_day": ("pages", "day", 1),
}
LIMIT_KEYS = ("questions_per_day", "tokens_per_day", "cost_per_month", "pages_per_day", "storage_mb", "documents")
UNSET = object()  # `set_limits(key=UNSET)`: drop the override, back to the config value
NEVER = datetime(9999, 1, 1)  # an upload hold is not given back by time, only by its job's end
INTEGER_KEYS = {"questions_per_day", "tokens_per_day", "pages_per_day", "documents"}


def shown_limit(value: object) -> str:
    """A limit as the audit log writes it: a number, unlimited (None) or default (UNSET)."""
    if value is None:
        return "unlimited"
    return f"{value:g}" if isinstance(value, (int, float)) else "default"


def parse_limit(key: str, raw: str) -> object:
    """A limit as typed by an admin: a number, 'unlimited', or 'default' (back to the config value)."""
    text = raw.strip().lower()
    if text in ("unlimited", "none", "null"):
        return None
    if text == "default":
        return UNSET
    try:
        value = int(text) if key in INTEGER_KEYS else float(text)
    except ValueError as e:
        raise ConfigError(f"{key}: expected a number, 'unlimited' or 'default', not {raw!r}") from e
    if value < 0:
        raise ConfigError(f"{key}: must not be negative")
    return value


@dataclass
class Reservation:
    """What one call holds: metric -> (period key, amount reserved)."""

    owner: str
    held: dict[str, tuple[str, int]] = field(default_factory=dict)
    holds: dict[str, str] = field(default_factory=dict)  # metric -> its QuotaHold row
    done: bool = False


@dataclass(frozen=True)
class QuotaStatus:
    key: str  # a quotas: key
    used: float
    limit: float | None
    resets_at: datetime | None


class QuotaService:
    def __init__(
        self,
        db: Database,
        settings: QuotaSettings,
        clock: Callable[[], datetime] = utc_now,
        hold_ttl_s: float = 600,
    ) -> None:
        """`hold_ttl_s`: how long a reservation may stay open before it is taken for one whose
        process died and given back (longer than any answer may stream)."""
        self._db = db
        self._settings = settings
        self._zone = ZoneInfo(settings.reset_timezone)
        self._clock = clock
        self._hold_ttl = timedelta(seconds=hold_ttl_s)

    @property
    def timezone(self) -> str:
        return self._settings.reset_timezone

    def periods(self) -> Periods:
        return Periods.at(self._clock(), self._zone)

    # ---- limits -------------------------------------------------------------------------------

    def overrides(self, owner: str) -> dict[str, Any]:
        with self._db.session() as s:
            row = s.get(UserQuota, owner)
            return dict(row.limits or {}) if row is not None else {}

    def limits(self, owner: str) -> dict[str, float | None]:
        """The user's effective limits: the config, overridden by the admin's per-user values."""
        effective: dict[str, float | None] = {k: getattr(self._settings, k) for k in LIMIT_KEYS}
        effective.update(self.overrides(owner))
        return effective

    def set_limits(self, owner: str, **changes: Any) -> dict[str, Any]:
        """Override limits for one user: a number, None (unlimited) or UNSET (back to the config)."""
        unknown = set(changes) - set(LIMIT_KEYS)
        if unknown:
            raise NotFound(f"unknown quota {', '.join(sorted(unknown))}")
        with self._db.session() as s:
            row = s.get(UserQuota, owner)
            if row is None:
                row = UserQuota(owner=owner, limits={})
                s.add(row)
            limits = dict(row.limits or {})
            for key, value in changes.items():
                if value is UNSET:
                    limits.pop(key, None)
                else:
                    limits[key] = value
            row.limits = limits
        logger.info("quota limits changed user={} keys={}", owner, ",".join(sorted(changes)))
        return limits

    # ---- reservations -------------------------------------------------------------------------

    def reserve(self, owner: str, **amounts: int) -> Reservation:
        """Take `amounts` (questions=, tokens=, cost_micro=, pages=) from the user's allowances, all or
        nothing; raise QuotaExceeded, naming the first limit that does not fit, without taking any."""
        limits = self.limits(owner)
        periods = self.periods()
        reservation = Reservation(owner)
        now = self._clock().astimezone(UTC).replace(tzinfo=None)
        with self._db.session() as s:  # committed even if the reservation below is refused
            quota_store.give_back_expired(s, owner, now)
        with self._db.session() as s:
            for key, (metric, period, scale) in COUNTED.items():
                if metric not in amounts:
                    continue
                amount = amounts[metric]
                period_key, resets_at = periods.of(period)
                limit = limits.get(key)
                ceiling = None if limit is None else round(float(limit) * scale)
                if not quota_store.take(s, owner, metric, period_key, amount, ceiling):
                    s.rollback()
                    logger.info("quota refused user={} limit={} value={}", owner, key, limit)
                    raise QuotaExceeded(
                        f"quota reached: {key.replace('_', ' ')} is {_number(limit)}; it resets at "
                        f"{resets_at.astimezone(self._zone):%Y-%m-%d %H:%M} {self.timezone}",
                        limit=key,
                        value=limit,
                        resets_at=resets_at,
                        timezone=self.timezone,
                    )
                reservation.held[metric] = (period_key, amount)
                hold = QuotaHold(
                    id=uuid.uuid4().hex,
                    owner=owner,
                    metric=metric,
                    period=period_key,
                    amount=amount,
                    expires_at=now + self._hold_ttl,
                )
                s.add(hold)
                reservation.holds[metric] = hold.id
        return reservation

    def settle(self, reservation: Reservation, **actual: int) -> None:
        """Replace reserved amounts by what was really used; metrics not named keep their reservation."""
        if reservation.done:
            return
        reservation.done = True
        with self._db.session() as s:
            for metric, (period_key, held) in reservation.held.items():
                hold = reservation.holds.get(metric)
                if hold is not None:
                    closed = s.execute(delete(QuotaHold).where(QuotaHold.id == hold))
                    if int(getattr(closed, "rowcount", 0)) == 0:
                        held = 0  # it outlived its time and was given back already: count it all now
                delta = actual.get(metric, held) - held
                if delta:
                    quota_store.adjust(s, reservation.owner, metric, period_key, delta)

    def release(self, reservation: Reservation, **spent: int) -> None:
        """Give back a failed call's reservation, keeping only what it had already `spent`."""
        self.settle(reservation, **{metric: spent.get(metric, 0) for metric in reservation.held})

    def add(self, owner: str, **amounts: int) -> None:
        """Count usage that needs no permission (e.g. an embedding call during ingestion)."""
        self.settle(self.reserve_unchecked(owner, **amounts))

    def reserve_unchecked(self, owner: str, **amounts: int) -> Reservation:
        periods = self.periods()
        reservation = Reservation(owner)
        with self._db.session() as s:
            for metric, period, _ in COUNTED.values():
                if metric in amounts:
                    period_key, _resets = periods.of(period)
                    quota_store.take(s, owner, metric, period_key, amounts[metric], None)
                    reservation.held[metric] = (period_key, amounts[metric])
        return reservation

    # ---- documents ----------------------------------------------------------------------------

    def check_storage(self, owner: str, documents: int, size_bytes: int) -> None:
        """Refuse when keeping `documents` documents of `size_bytes` in all would exceed the user's limits.

        Checked under the ingestion's per-user lock; these limits never reset."""
        limits = self.limits(owner)
        count_limit, mb_limit = limits.get("documents"), limits.get("storage_mb")
        if count_limit is not None and documents > count_limit:
            self._refuse(owner, "documents", count_limit, None)
        if mb_limit is not None and size_bytes > float(mb_limit) * 1024 * 1024:
            self._refuse(owner, "storage_mb", mb_limit, None)

    def admit_upload(self, owner: str, job_id: int, size_bytes: int, name: str) -> None:
        """Reserve one document and `size_bytes` for the upload of ingestion job `job_id`, or raise
        QuotaExceeded naming the limit. What counts: the documents the user keeps (not failed ones,
        nor the ready document of the same name it would replace) plus every upload accepted and not
        yet ingested (queued, held by a worker), on any instance. The hold is written first, so the
        totals are read under the database's write lock (SQLite) or a per-user lock (PostgreSQL):
        simultaneous uploads, in one process or several, see each other's holds."""
        limits = self.limits(owner)
        count_limit, mb_limit = limits.get("documents"), limits.get("storage_mb")
        hold_id = upload_hold_id(job_id)  # held even when unlimited: a limit set later counts it
        with self._db.session() as s:
            if s.get_bind().dialect.name == "postgresql":
                s.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"upload:{owner}"})
            s.execute(delete(QuotaHold).where(QuotaHold.id == hold_id))  # a stale row of that name (restored)
            s.add(
                QuotaHold(
                    id=hold_id, owner=owner, metric=UPLOAD_METRIC, period="-", amount=size_bytes, expires_at=NEVER
                )
            )
            s.flush()
            if count_limit is None and mb_limit is None:
                return
            documents, size = quota_store.upload_totals(s, owner, name)
            if count_limit is not None and documents > count_limit:
                self._refuse(owner, "documents", count_limit, None)
            if mb_limit is not None and size > float(mb_limit) * 1024 * 1024:
                self._refuse(owner, "storage_mb", mb_limit, None)

    def end_upload(self, job_id: int) -> None:
        """The job of an accepted upload ended (ingested, refused or failed): its hold goes; what it
        stored now counts as a document, if anything."""
        with self._db.session() as s:
            s.execute(delete(QuotaHold).where(QuotaHold.id == upload_hold_id(job_id)))

    def take_pages(self, owner: str, pages: int) -> None:
        """Count `pages` ingested pages against pages_per_day (refused, and not counted, when over).
        Settled at once: an open hold would be given back when it expires, and the pages with it."""
        self.settle(self.reserve(owner, pages=pages))

    def _refuse(self, owner: str, key: str, limit: float, resets_at: datetime | None) -> None:
        logger.info("quota refused user={} limit={} value={}", owner, key, limit)
        raise QuotaExceeded(
            f"quota reached: {key.replace('_', ' ')} is {_number(limit)}; delete documents or ask the administrator",
            limit=key,
            value=limit,
            resets_at=resets_at,
            timezone=self.timezone,
        )

    # ---- reading ------------------------------------------------------------------------------

    def status(self, owner: str) -> list[QuotaStatus]:
        """Today's (and this month's) use of each counted allowance, against the user's limits."""
        limits = self.limits(owner)
        periods = self.periods()
        with self._db.session() as s:
            used = {
                (r.metric, r.period): r.used
                for r in s.scalars(
                    select(QuotaCounter).where(
                        QuotaCounter.owner == owner, QuotaCounter.period.in_([periods.day, periods.month])
                    )
                )
            }
        out = []
        for key, (metric, period, scale) in COUNTED.items():
            period_key, resets_at = periods.of(period)
            out.append(QuotaStatus(key, used.get((metric, period_key), 0) / scale, limits.get(key), resets_at))
        return out

    def daily(self, owner: str | None, first_day: str) -> list[tuple[str, str, str, int]]:
        """(owner, metric, day, used) of daily counters from `first_day` on; all users when owner is None."""
        query = select(QuotaCounter).where(QuotaCounter.period >= first_day, QuotaCounter.period.like("____-__-__"))
        if owner is not None:
            query = query.where(QuotaCounter.owner == owner)
        with self._db.session() as s:
            return [(r.owner, r.metric, r.period, r.used) for r in s.scalars(query)]


def _number(value: float | None) -> str:
    if value is None:
        return "unlimited"
    return f"{value:g}" if isinstance(value, float) else str(value)
