"""Signed-in sessions, kept in the app database instead of Gradio's per-process dictionary.

Every request resolves its cookie here, so a session ends as soon as its user is disabled, removed
or given a new password (the rows go, and the user is re-checked anyway), after
`auth.session_idle_minutes` without use and `auth.session_max_hours` after the login. Because the
rows live in the shared database, a session opened on one instance is valid on every other one and
survives a restart.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta

from loguru import logger
from sqlalchemy import delete, select, update

from app.storage.db import Database, LoginSession, User, utcnow

# Within one HTTP request a token is looked up once: the edge checks it, then Gradio asks again for
# the same request (two database queries on the event loop per request were 18 % of the server's
# CPU under load). Only for the request that is being served; never across requests.
_REQUEST_MEMO: ContextVar[dict[str, str | None] | None] = ContextVar("session_request_memo", default=None)


@contextmanager
def one_lookup_per_request() -> Iterator[None]:
    """Inside this block (one HTTP request), `SessionStore.resolve` asks the database once per token."""
    reset = _REQUEST_MEMO.set({})
    try:
        yield
    finally:
        _REQUEST_MEMO.reset(reset)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    def __init__(
        self, db: Database, idle_minutes: float, max_hours: float, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._db = db
        self._clock = clock
        self._idle = timedelta(minutes=idle_minutes)
        self._max = timedelta(hours=max_hours)
        # last_seen is written at most once a minute per session (more often only for short idle limits)
        self._touch_every = min(timedelta(seconds=60), self._idle / 3)

    def create(self, username: str, token: str | None = None, method: str = "password") -> str:
        """A new session for an existing user; returns the token for the cookie. `method`: how the
        browser signed in (password, or the single sign-on that vouched for the user: oidc, ...)."""
        token = token or secrets.token_urlsafe(32)
        with self._db.session() as s:
            user = s.scalar(select(User).where(User.username == username))
            if user is None:
                raise KeyError(username)
            now = self._clock()
            s.add(
                LoginSession(
                    token_hash=_hash(token),
                    user_id=user.id,
                    username=user.username,
                    created_at=now,
                    last_seen=now,
                    method=method[:16],
                )
            )
        return token

    def resolve(self, token: str | None) -> str | None:
        """The username of a live session, or None (unknown, expired, or its user is gone/disabled)."""
        if not token or len(token) > 256:
            return None
        memo = _REQUEST_MEMO.get()
        if memo is not None and token in memo:
            return memo[token]
        user = self._lookup(token)
        if memo is not None:
            memo[token] = user
        return user

    def signed_in_by(self, token: str | None, username: str) -> str | None:
        """How the live session `token` of `username` signed in (password, oidc, ...), or None when
        the token names no live session of that user."""
        if self.resolve(token) != username:
            return None
        with self._db.engine.connect() as conn:
            method = conn.execute(
                select(LoginSession.method).where(LoginSession.token_hash == _hash(str(token)))
            ).scalar()
        return str(method) if method else None

    def _lookup(self, token: str) -> str | None:
        # Every request comes here: one read on a plain connection (no ORM unit of work, no commit);
        # a write only when the session ends or its last use is recorded (at most once a minute).
        now = self._clock()
        token_hash = _hash(token)
        with self._db.engine.connect() as conn:
            row = conn.execute(
                select(
                    LoginSession.username, LoginSession.created_at, LoginSession.last_seen, User.username, User.disabled
                )
                .join(User, User.id == LoginSession.user_id)
                .where(LoginSession.token_hash == token_hash)
            ).first()
        if row is None:
            return None
        session_user, created_at, last_seen, username, disabled = row
        expired = now - last_seen > self._idle or now - created_at > self._max
        if expired or disabled or username != session_user:
            with self._db.session() as s:
                s.execute(delete(LoginSession).where(LoginSession.token_hash == token_hash))
            return None
        if now - last_seen > self._touch_every:
            with self._db.session() as s:
                s.execute(update(LoginSession).where(LoginSession.token_hash == token_hash).values(last_seen=now))
        return str(username)

    def revoke(self, token: str | None) -> None:
        if token:
            with self._db.session() as s:
                s.execute(delete(LoginSession).where(LoginSession.token_hash == _hash(token)))

    def revoke_user(self, username: str) -> int:
        """End every session of a user (disable, removal, new password, 'log out everywhere')."""
        with self._db.session() as s:
            result = s.execute(delete(LoginSession).where(LoginSession.username == username))
            count = getattr(result, "rowcount", 0)
        if count:
            logger.info("sessions ended user={} count={}", username, count)
        return int(count or 0)

    def count_active(self) -> int:
        """Sessions used within the idle limit (the pdfqa_active_sessions gauge)."""
        from sqlalchemy import func

        with self._db.session() as s:
            since = self._clock() - self._idle
            return int(s.scalar(select(func.count()).where(LoginSession.last_seen >= since)) or 0)

    def purge_expired(self) -> None:
        now = self._clock()
        with self._db.session() as s:
            s.execute(
                delete(LoginSession).where(
                    (LoginSession.last_seen < now - self._idle) | (LoginSession.created_at < now - self._max)
                )
            )


class GradioTokens(MutableMapping[str, str]):
    """Stands in for Gradio's `App.tokens` dict (token -> username), backed by the SessionStore.

    Gradio calls `.get(token)` on every request to find the user; login and logout are served by
    our own routes, so the mapping is never enumerated (raw tokens are not stored to enumerate)."""

    def __init__(self, store: SessionStore) -> None:
        self._store = store

    def __getitem__(self, token: str) -> str:
        user = self._store.resolve(token)
        if user is None:
            raise KeyError("no such session")
        return user

    def __setitem__(self, token: str, username: str) -> None:
        self._store.create(username, token)

    def __delitem__(self, token: str) -> None:
        self._store.revoke(token)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0
