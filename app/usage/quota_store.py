"""The quota counters in the database: one row per (user, metric, period), changed only by
conditional UPDATEs, and the holds of open reservations (app/usage/quotas.py decides what to take).

Taking adds an amount to the counter with one conditional UPDATE (`used + n <= limit`), in the same
transaction that creates the counter row (`INSERT ... ON CONFLICT DO NOTHING`). The database
serialises concurrent UPDATEs of one row, and both SQLite and PostgreSQL re-check the condition on
the latest value, so simultaneous requests, in one process or several, can never take more than the
limit between them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from loguru import logger
from sqlalchemy import String, and_, cast, delete, func, literal, not_, or_, select, update
from sqlalchemy.orm import Session

from app.storage.db import Document, IngestJob, QuotaCounter, QuotaHold, utcnow

# An accepted upload holds its bytes (and one document) from the moment it is accepted until its
# ingestion job finishes: one QuotaHold row per job, named after the job, counted only while that
# job is unfinished (so a hold outliving its job, e.g. restored from a backup, counts for nothing).
UPLOAD_METRIC = "upload_bytes"


def upload_hold_id(job_id: int) -> str:
    return f"upload-{job_id}"


def take(s: Session, owner: str, metric: str, period: str, amount: int, ceiling: int | None) -> bool:
    """Add `amount` to the counter unless that passes `ceiling` (None: no ceiling); False: refused."""
    s.execute(_insert_ignore(s, owner, metric, period))
    statement = update(QuotaCounter).where(*_row(owner, metric, period))
    if ceiling is not None:
        statement = statement.where(QuotaCounter.used + amount <= ceiling)
    result = s.execute(statement.values(used=QuotaCounter.used + amount).execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0)) == 1


def used(s: Session, owner: str, metric: str, period: str) -> int:
    """A counter's value (0 when it has no row)."""
    return int(s.scalar(select(QuotaCounter.used).where(*_row(owner, metric, period))) or 0)


def sweep(s: Session, metric: str, before: str) -> None:
    """Delete the counters of `metric` whose period sorts before `before` (periods of equal length)."""
    s.execute(delete(QuotaCounter).where(QuotaCounter.metric == metric, QuotaCounter.period < before))


def adjust(s: Session, owner: str, metric: str, period: str, delta: int) -> None:
    """Change a counter by `delta`, without a ceiling (settling a reservation)."""
    s.execute(
        update(QuotaCounter)
        .where(*_row(owner, metric, period))
        .values(used=QuotaCounter.used + delta)
        .execution_options(synchronize_session=False)
    )


def give_back_expired(s: Session, owner: str, now: datetime) -> None:
    """Return the holds of `owner` that nobody settled in time (their process was killed).
    Each is deleted before its amount is returned, so two instances never return it twice."""
    expired = s.scalars(select(QuotaHold).where(QuotaHold.owner == owner, QuotaHold.expires_at < now)).all()
    for hold in expired:
        gone = s.execute(delete(QuotaHold).where(QuotaHold.id == hold.id))
        if int(getattr(gone, "rowcount", 0)) == 1:
            adjust(s, owner, hold.metric, hold.period, -hold.amount)
            logger.info("quota hold given back user={} metric={} amount={}", owner, hold.metric, hold.amount)


def upload_totals(s: Session, owner: str, name: str) -> tuple[int, int]:
    """(documents, bytes) an upload named `name` is checked against: the holds of unfinished
    uploads (this one's included) and the documents kept besides them. A document that an unfinished
    upload is making (or would leave unchanged: same bytes) is counted once, by that upload's hold."""
    uploads = (
        select(QuotaHold.amount, IngestJob.sha256)
        .join(IngestJob, QuotaHold.id == literal("upload-") + cast(IngestJob.id, String))
        .where(
            QuotaHold.owner == owner,
            QuotaHold.metric == UPLOAD_METRIC,
            IngestJob.owner == owner,
            or_(
                IngestJob.status.in_(("queued", "running")),
                # being stored now; one whose process died before it was queued stops counting
                and_(IngestJob.status == "accepting", IngestJob.lease_until >= utcnow()),
            ),
        )
        .subquery()
    )
    held = select(func.count(), func.coalesce(func.sum(uploads.c.amount), 0))
    kept = select(func.count(), func.coalesce(func.sum(Document.size_bytes), 0)).where(
        Document.owner == owner,
        Document.status != "failed",
        not_(and_(Document.status == "ready", Document.name == name)),  # replaced by this upload
        Document.sha256.not_in(select(uploads.c.sha256)),
    )
    kept_count, kept_bytes = s.execute(kept).one()
    held_count, held_bytes = s.execute(held).one()
    return int(kept_count) + int(held_count), int(kept_bytes) + int(held_bytes)


def _row(owner: str, metric: str, period: str) -> tuple[Any, ...]:
    return (QuotaCounter.owner == owner, QuotaCounter.metric == metric, QuotaCounter.period == period)


def _insert_ignore(s: Session, owner: str, metric: str, period: str) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING in the dialect of the database."""
    dialect = s.get_bind().dialect.name
    values = {"owner": owner, "metric": metric, "period": period, "used": 0}
    keys = ["owner", "metric", "period"]
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(QuotaCounter).values(**values).on_conflict_do_nothing(index_elements=keys)
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(QuotaCounter).values(**values).on_conflict_do_nothing(index_elements=keys)
    raise NotImplementedError(f"quotas need SQLite or PostgreSQL, not {dialect}")  # pragma: no cover
