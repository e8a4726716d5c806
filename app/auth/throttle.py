"""Login throttling, kept in the app database so every instance applies the same counts.

Rules (README "Login throttling" says the same):
- Only attempts whose password was actually checked count; failures older than
  `auth.failure_window_s` are forgotten.
- One user from one address: after `auth.max_failures` failures that pair cools down for
  `auth.lockout_s`, doubled with each further failure (at most the window). The same user from
  another address is not affected, so an attacker cannot keep someone else out.
- One address, any user: after `auth.max_failures_per_address` failures the address cools down
  the same way (password spraying).
- A user failing from many addresses, or more than `auth.global_failures_per_minute` failures in
  all: every check is slowed down by a second, nobody is refused.
- A successful login clears that pair's failures.

Users are counted by the name's compared form (app/clean.py `username_key`): `BOB` and `bob` are one
user. The login service passes an account's stored name, or `unknown:<hash>` for a name that is no
account, so a password typed into the username box is never stored here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select

from app.clean import username_key
from app.config import AuthSettings
from app.storage.db import Database, LoginFailure, utcnow

SLOW_DOWN_S = 1.0


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: float = 0.0
    delay_s: float = 0.0
    reason: str = ""


def _norm_user(username: str) -> str:
    return username_key(username)[:64]


def _norm_addr(address: str | None) -> str:
    return (address or "unknown")[:64]


class LoginThrottle:
    def __init__(self, db: Database, settings: AuthSettings, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._s = settings
        self._clock = clock
        self._window = timedelta(seconds=settings.failure_window_s)

    def _cooldown(self, failures: int, threshold: int) -> float:
        extra = min(failures - threshold, 20)
        return min(self._s.lockout_s * 2**extra, self._s.failure_window_s)

    def check(self, username: str, address: str | None) -> Verdict:
        """May this attempt be checked now? Never counts anything itself."""
        user, addr, now = _norm_user(username), _norm_addr(address), self._clock()
        since = now - self._window
        with self._db.session() as s:

            def stats(*conds: ColumnElement[bool]) -> tuple[int, datetime | None]:
                count, last = s.execute(
                    select(func.count(LoginFailure.id), func.max(LoginFailure.at)).where(
                        LoginFailure.at > since, *conds
                    )
                ).one()
                return int(count or 0), last

            pair_n, pair_last = stats(LoginFailure.username == user, LoginFailure.address == addr)
            addr_n, addr_last = stats(LoginFailure.address == addr)
            user_n, _ = stats(LoginFailure.username == user)
            recent_n, _ = stats(LoginFailure.at > now - timedelta(seconds=60))
        for n, last, threshold, reason in (
            (pair_n, pair_last, self._s.max_failures, "user_address"),
            (addr_n, addr_last, self._s.max_failures_per_address, "address"),
        ):
            if n >= threshold and last is not None:
                wait = self._cooldown(n, threshold) - (now - last).total_seconds()
                if wait > 0:
                    return Verdict(False, retry_after_s=wait, reason=reason)
        slow = user_n >= self._s.max_failures_per_address or recent_n >= self._s.global_failures_per_minute
        return Verdict(True, delay_s=SLOW_DOWN_S if slow else 0.0)

    def failure(self, username: str, address: str | None) -> None:
        now = self._clock()
        with self._db.session() as s:
            s.add(LoginFailure(username=_norm_user(username), address=_norm_addr(address), at=now))
            s.execute(delete(LoginFailure).where(LoginFailure.at < now - self._window))

    def success(self, username: str, address: str | None) -> None:
        with self._db.session() as s:
            s.execute(
                delete(LoginFailure).where(
                    LoginFailure.username == _norm_user(username), LoginFailure.address == _norm_addr(address)
                )
            )
