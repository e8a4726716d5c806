"""What the Usage tab shows: a user's questions, tokens and estimated cost per day, today's use
against each limit, and for admins every user's totals and a CSV export."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from app.auth.users import UserService
from app.errors import AuthError, NotFound
from app.usage.accounting import UsageRecorder
from app.usage.quotas import LIMIT_KEYS, QuotaService, QuotaStatus


@dataclass(frozen=True)
class DayTotals:
    day: str
    questions: int
    tokens: int
    cost: float | None  # estimated from priced models; None when all the tokens are of unpriced models


@dataclass(frozen=True)
class UserTotals:
    user: str
    questions: int
    tokens: int
    cost: float | None  # as DayTotals.cost
    questions_today: int
    limits: dict[str, float | None]


class UsageReport:
    def __init__(
        self,
        recorder: UsageRecorder,
        quotas: QuotaService,
        users: UserService,
        kept: Callable[[str], tuple[int, int]] = lambda owner: (0, 0),
    ) -> None:
        """`kept`: the (documents, bytes) a user keeps, as the documents and storage_mb limits count them."""
        self._recorder = recorder
        self._quotas = quotas
        self._users = users
        self._kept = kept

    def kept(self, owner: str) -> dict[str, float]:
        """What the never-resetting limits count now: {"documents": n, "storage_mb": MB}."""
        documents, size = self._kept(owner)
        return {"documents": documents, "storage_mb": round(size / (1024 * 1024), 2)}

    @property
    def timezone(self) -> str:
        return self._quotas.timezone

    def is_admin(self, username: str) -> bool:
        try:
            return self._users.get(username).is_admin
        except (NotFound, AuthError):
            return False  # e.g. a Hugging Face account, which has no row in the users table

    def require_admin(self, username: str) -> None:
        if not self.is_admin(username):
            raise AuthError("only an administrator can do this")

    def days(self, n: int = 30) -> list[str]:
        zone = ZoneInfo(self._quotas.timezone)
        today = datetime.now(UTC).astimezone(zone).date()
        return [(today - timedelta(days=i)).isoformat() for i in range(n - 1, -1, -1)]

    def daily(self, owner: str | None, n: int = 30) -> list[DayTotals]:
        """One row per day of the last `n` days (zeros included), for one user or everyone."""
        days = self.days(n)
        questions = {d: 0 for d in days}
        for _, metric, day, used in self._quotas.daily(owner, days[0]):
            if metric == "questions" and day in questions:
                questions[day] += used
        tokens = dict.fromkeys(days, 0)
        costs: dict[str, list[float | None]] = {d: [] for d in days}
        for r in self._recorder.daily(owner, n):
            if r.day in tokens:
                tokens[r.day] += r.prompt_tokens + r.completion_tokens
                costs[r.day].append(r.cost)
        return [DayTotals(d, questions[d], tokens[d], _total_cost(costs[d])) for d in days]

    def status(self, owner: str) -> list[QuotaStatus]:
        return self._quotas.status(owner)

    def limits(self, owner: str) -> dict[str, float | None]:
        return self._quotas.limits(owner)

    def overrides(self, owner: str) -> dict[str, object]:
        """The limits set for `owner` (the others follow the configuration)."""
        return self._quotas.overrides(owner)

    def everyone(self, n: int = 30) -> list[UserTotals]:
        """Totals over the last `n` days for every account and every user with usage."""
        days = self.days(n)
        today = days[-1]
        names = {u.username for u in self._users.list()}
        questions: dict[str, int] = {}
        questions_today: dict[str, int] = {}
        for owner, metric, day, used in self._quotas.daily(None, days[0]):
            if metric == "questions":
                names.add(owner)
                questions[owner] = questions.get(owner, 0) + used
                if day == today:
                    questions_today[owner] = used
        tokens: dict[str, int] = {}
        costs: dict[str, list[float | None]] = {}
        for r in self._recorder.daily(None, n):
            names.add(r.owner)
            tokens[r.owner] = tokens.get(r.owner, 0) + r.prompt_tokens + r.completion_tokens
            costs.setdefault(r.owner, []).append(r.cost)
        return [
            UserTotals(
                user=name,
                questions=questions.get(name, 0),
                tokens=tokens.get(name, 0),
                cost=_total_cost(costs.get(name, [])),
                questions_today=questions_today.get(name, 0),
                limits=self._quotas.limits(name),
            )
            for name in sorted(names)
        ]

    def set_limits(self, admin: str, owner: str, **changes: object) -> None:
        self.require_admin(admin)
        self._quotas.set_limits(owner, **{k: v for k, v in changes.items() if k in LIMIT_KEYS})

    def csv(self, admin: str, n: int = 30) -> str:
        """Per user, model, kind and day (admins only)."""
        self.require_admin(admin)
        return self._recorder.csv(None, n)


def _total_cost(costs: list[float | None]) -> float | None:
    """The sum of the priced costs (None: a model not in the price table); usage made only of
    unpriced models has no cost (None), never 0."""
    priced = [c for c in costs if c is not None]
    if costs and not priced:
        return None
    return round(sum(priced), 6)
