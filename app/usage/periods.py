"""Quota periods: the day and the month in the reset time zone, and the moments they end (in UTC)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Periods:
    day: str
    month: str
    day_resets_at: datetime  # UTC
    month_resets_at: datetime

    @classmethod
    def at(cls, now: datetime, zone: ZoneInfo) -> Periods:
        local = now.astimezone(zone)
        midnight = datetime(local.year, local.month, local.day, tzinfo=zone)
        next_day = midnight + timedelta(days=1)  # wall-clock arithmetic: the next local midnight
        first = datetime(local.year + local.month // 12, local.month % 12 + 1, 1, tzinfo=zone)
        return cls(
            day=local.strftime("%Y-%m-%d"),
            month=local.strftime("%Y-%m"),
            day_resets_at=next_day.astimezone(UTC),
            month_resets_at=first.astimezone(UTC),
        )

    def of(self, period: str) -> tuple[str, datetime]:
        return (self.day, self.day_resets_at) if period == "day" else (self.month, self.month_resets_at)
