"""Token accounting: every LLM and paid embedding call's usage, per user, model, kind and day, in the
app database; cost estimated from the price table when the model is in it."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from loguru import logger
from sqlalchemy import func, select

from app import metrics
from app.domain import Usage
from app.storage.db import Database, UsageRecord
from app.usage.pricing import Pricing


@dataclass(frozen=True)
class DailyUsage:
    owner: str
    day: str  # in the reset time zone
    model: str
    kind: str  # chat | condense | embed
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost: float | None  # None: the model is not in the price table


class UsageRecorder:
    def __init__(self, db: Database, pricing: Pricing | None = None, timezone: str = "UTC") -> None:
        self._db = db
        self._pricing = pricing or Pricing({})
        self._zone = ZoneInfo(timezone)

    @property
    def pricing(self) -> Pricing:
        return self._pricing

    def record(self, owner: str, kind: str, model: str, usage: Usage) -> None:
        with self._db.session() as s:
            s.add(
                UsageRecord(
                    owner=owner,
                    kind=kind,
                    model=model,
                    prompt_tokens=usage.prompt_tokens,
                    completion_tokens=usage.completion_tokens,
                )
            )
        metrics.TOKENS.labels(model, kind, "prompt").inc(usage.prompt_tokens)
        metrics.TOKENS.labels(model, kind, "completion").inc(usage.completion_tokens)
        logger.bind(user=owner).debug(
            "usage kind={} model={} prompt_tokens={} completion_tokens={}",
            kind,
            model,
            usage.prompt_tokens,
            usage.completion_tokens,
        )

    def totals(self, owner: str, since: datetime | None = None) -> Usage:
        query = select(
            func.coalesce(func.sum(UsageRecord.prompt_tokens), 0),
            func.coalesce(func.sum(UsageRecord.completion_tokens), 0),
        ).where(UsageRecord.owner == owner)
        if since is not None:
            query = query.where(UsageRecord.created_at >= since)
        with self._db.session() as s:
            prompt, completion = s.execute(query).one()
        return Usage(int(prompt), int(completion))

    def daily(self, owner: str | None, days: int = 30, now: datetime | None = None) -> list[DailyUsage]:
        """Usage per (user, day, model, kind) over the last `days` local days; all users when owner is None."""
        now = now or datetime.now(UTC)
        local_start = now.astimezone(self._zone).replace(hour=0, minute=0, second=0, microsecond=0)
        start = (local_start - timedelta(days=days - 1)).astimezone(UTC).replace(tzinfo=None)
        query = select(UsageRecord).where(UsageRecord.created_at >= start)
        if owner is not None:
            query = query.where(UsageRecord.owner == owner)
        sums: dict[tuple[str, str, str, str], list[int]] = {}
        with self._db.session() as s:
            for r in s.scalars(query):
                day = r.created_at.replace(tzinfo=UTC).astimezone(self._zone).strftime("%Y-%m-%d")
                acc = sums.setdefault((r.owner, day, r.model, r.kind), [0, 0, 0])
                acc[0] += 1
                acc[1] += r.prompt_tokens
                acc[2] += r.completion_tokens
        return [
            DailyUsage(o, d, m, k, n, p, c, self._pricing.cost(m, Usage(p, c)))
            for (o, d, m, k), (n, p, c) in sorted(sums.items(), key=lambda item: (item[0][1], item[0][0]))
        ]

    def csv(self, owner: str | None, days: int = 30) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["user", "day", "model", "kind", "calls", "prompt_tokens", "completion_tokens", "cost"])
        for r in self.daily(owner, days):
            cost = "" if r.cost is None else f"{r.cost:.6f}"
            writer.writerow([r.owner, r.day, r.model, r.kind, r.calls, r.prompt_tokens, r.completion_tokens, cost])
        return out.getvalue()
