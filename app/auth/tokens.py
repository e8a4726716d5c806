"""Personal access tokens for the REST API (/api/v1) and the OpenAI-compatible endpoint (/v1).

A token is `pdfqa_` + 43 random URL-safe characters (256 bits), shown once when it is made. Stored:
its HMAC-SHA256 under an installation key (app/storage/app_keys.py), its first 12 characters as a
visible prefix, its scopes, expiry, last use and revocation. A fast keyed hash is enough here, unlike
for passwords: the token is high-entropy random, so no guess list or slow hash is needed to keep it
from being found from its hash, and a request's check costs one indexed lookup, not ~50 ms of argon2.

Scopes: `read` (list and get documents, jobs, conversations, usage, models), `ask` (ask questions,
chat completions) and `write` (upload and delete documents); `ask` and `write` include `read`.

Every request checks its token against the database (`authenticate`): revoked, expired, or belonging
to a disabled or removed user is refused at once on every instance; nothing is cached in process.

A refused token is audited (`token.refused`, RefusalAudit) with its visible prefix, never the
rest, and bounded so that a flood of bad tokens cannot flood the audit log.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from loguru import logger
from pydantic import BaseModel
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.audit import audit
from app.clean import clean_line
from app.errors import AuthError, NotFound
from app.storage.access_tokens import AccessToken
from app.storage.app_keys import installation_key
from app.storage.db import Database, User, utcnow

SCOPES = ("read", "ask", "write")
TOKEN_PREFIX = "pdfqa_"
PREFIX_CHARS = 12  # "pdfqa_" + 6 random characters, shown in lists
MAX_DAYS = 366
DEFAULT_EXPIRY = "90d"
HASH_KEY = "access_token_hmac"
TOUCH_EVERY = timedelta(seconds=60)  # last_used_at is written at most once a minute per token
_TOKEN = re.compile(r"^pdfqa_[A-Za-z0-9_-]{43}$")
_EXPIRY = re.compile(r"^(\d{1,4})([dh])$")
REFUSAL_WINDOW_S = 60.0
REFUSAL_LINES_PER_WINDOW = 100  # audit lines of refused tokens per minute, all prefixes and clients together
REFUSAL_KEYS = 10_000  # (prefix, client) pairs remembered at most


class TokenRefused(AuthError):
    """The bearer token is missing, malformed, unknown, expired, revoked, or its user may not sign in."""


class TokenInfo(BaseModel):
    """What a list shows of a token (never the token or its hash)."""

    id: str
    user: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None and self.expires_at > utcnow()


class NewToken(BaseModel):
    """A token just made: `token` is shown this once and never again."""

    token: str
    info: TokenInfo


@dataclass(frozen=True)
class TokenUser:
    """Who a request's token speaks for, and what it may do."""

    username: str
    token_id: str
    prefix: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


def parse_scopes(raw: str | Iterable[str]) -> list[str]:
    """`ask` or `read,write` (or a list of those) -> the scopes in their canonical order."""
    parts = (
        raw.replace(",", " ").split() if isinstance(raw, str) else [p for r in raw for p in r.replace(",", " ").split()]
    )
    unknown = sorted(set(parts) - set(SCOPES))
    if unknown or not parts:
        raise AuthError(f"scopes are {', '.join(SCOPES)} (got {', '.join(unknown) or 'none'})")
    return [s for s in SCOPES if s in parts]


def parse_expiry(raw: str) -> timedelta:
    """`90d` or `12h`, from one hour to MAX_DAYS days."""
    m = _EXPIRY.match(raw.strip().lower())
    if m is None:
        raise AuthError("an expiry is a number of days or hours, e.g. 90d or 12h")
    amount = int(m.group(1))
    length = timedelta(days=amount) if m.group(2) == "d" else timedelta(hours=amount)
    if length <= timedelta(0) or length > timedelta(days=MAX_DAYS):
        raise AuthError(f"an expiry is between 1h and {MAX_DAYS}d")
    return length


class RefusalAudit:
    """Refused tokens into the audit log, bounded per instance: at most one `token.refused` line per
    (prefix, client) per minute, carrying in `repeats` how many refusals of that pair the lines
    before it left out, and at most REFUSAL_LINES_PER_WINDOW lines a minute in all (a flood of
    random prefixes from many addresses); what that cap leaves out is counted in the next line's
    `unaudited`. Every refusal is still in the main log."""

    def __init__(
        self,
        window_s: float = REFUSAL_WINDOW_S,
        per_window: int = REFUSAL_LINES_PER_WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._window = window_s
        self._per_window = per_window
        self._clock = clock
        self._lock = threading.Lock()
        self._last: dict[tuple[str, str], tuple[float, int]] = {}  # pair -> (last line, refusals since)
        self._window_start = clock()
        self._lines = 0
        self._unaudited = 0

    def record(self, prefix: str, client: str | None, reason: str, user: str | None = None) -> bool:
        """Audit one refusal unless the bounds say not now; True when a line was written."""
        now = self._clock()
        key = (prefix, client or "-")
        with self._lock:
            if now - self._window_start >= self._window:
                self._window_start, self._lines = now, 0
            last, since = self._last.get(key, (None, 0))
            if last is not None and now - last < self._window:
                self._last[key] = (last, since + 1)
                return False
            if self._lines >= self._per_window:
                self._unaudited += 1
                return False
            if len(self._last) >= REFUSAL_KEYS:
                self._forget(now)
            self._last[key] = (now, 0)
            self._lines += 1
            unaudited, self._unaudited = self._unaudited, 0
        audit(
            "token.refused",
            user or "-",
            outcome="failed",
            client=client,
            target=user,
            token=prefix,
            reason=reason,
            repeats=since or None,
            unaudited=unaudited or None,
        )
        return True

    def _forget(self, now: float) -> None:
        stale = [k for k, (last, _) in self._last.items() if now - last >= self._window]
        for k in stale or list(self._last)[: len(self._last) // 2]:
            del self._last[k]


def visible_prefix(token: str) -> str:
    """What of a presented token may be written down: the prefix lists show of a token of ours, and
    nothing of anything else (it may be some other secret pasted by mistake)."""
    return token[:PREFIX_CHARS] if token.startswith(TOKEN_PREFIX) and len(token) >= PREFIX_CHARS else "-"


def effective_scopes(stored: str) -> frozenset[str]:
    scopes = set(stored.split())
    if scopes & {"ask", "write"}:
        scopes.add("read")
    return frozenset(scopes)


class TokenService:
    def __init__(self, db: Database, refusals: RefusalAudit | None = None) -> None:
        self._db = db
        self._key: bytes | None = None
        self._refusals = refusals or RefusalAudit()

    def _hash(self, token: str) -> str:
        if self._key is None:
            self._key = installation_key(self._db, HASH_KEY)  # the same on every instance
        return hmac.new(self._key, token.encode(), hashlib.sha256).hexdigest()

    # ---- making, listing, revoking ------------------------------------------------------------

    def create(
        self,
        username: str,
        scopes: str | Iterable[str],
        expires: str = DEFAULT_EXPIRY,
        name: str = "",
        actor: str | None = None,
    ) -> NewToken:
        """A new token for an enabled user; the returned `token` is shown once. Audited."""
        chosen = parse_scopes(scopes)
        length = parse_expiry(expires)
        label = clean_line(name or "", 100)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = utcnow()
        with self._db.session() as s:
            user = s.scalar(select(User).where(User.username == username))
            if user is None:
                raise NotFound(f"no such user: {username!r}")
            if user.disabled:
                raise AuthError(f"user {username!r} is disabled")
            row = AccessToken(
                user_id=user.id,
                name=label,
                prefix=token[:PREFIX_CHARS],
                token_hash=self._hash(token),
                scopes=" ".join(chosen),
                created_at=now,
                expires_at=now + length,
            )
            s.add(row)
            s.flush()
            info = _info(row, user.username)
        audit(
            "token.created",
            actor or username,
            target=username,
            token=info.prefix,
            scopes=" ".join(chosen),
            expires=info.expires_at.isoformat(timespec="seconds"),
        )
        return NewToken(token=token, info=info)

    def list(self, username: str | None = None, limit: int | None = None) -> list[TokenInfo]:
        """A user's tokens (all users' with None), newest first, revoked and expired ones included;
        the newest `limit` when given."""
        query = select(AccessToken, User.username).join(User, User.id == AccessToken.user_id)
        if username is not None:
            query = query.where(User.username == username)
        query = query.order_by(AccessToken.created_at.desc(), AccessToken.id)
        if limit is not None:
            query = query.limit(limit)
        with self._db.session() as s:
            return [_info(t, name) for t, name in s.execute(query).all()]

    def find(self, id_or_prefix: str, owner: str | None = None) -> TokenInfo:
        """The one token named by its id or visible prefix (`owner`: only among that user's)."""
        with self._db.session() as s:
            row, username = self._one(s, id_or_prefix, owner)
            return _info(row, username)

    def revoke(self, id_or_prefix: str, actor: str, owner: str | None = None, client: str | None = None) -> TokenInfo:
        """Revoke one token named by its id or its visible prefix; `owner`: only among that user's
        tokens (a user revoking their own), None for an administrator or the CLI. Audited."""
        with self._db.session() as s:
            row, username = self._one(s, id_or_prefix, owner)
            if row.revoked_at is None:
                row.revoked_at = utcnow()
                row.revoked_by = (actor or "-")[:64]
            info = _info(row, username)
        audit("token.revoked", actor, target=username, token=info.prefix, client=client)
        return info

    @staticmethod
    def _one(s: Session, id_or_prefix: str, owner: str | None) -> tuple[AccessToken, str]:
        key = clean_line(id_or_prefix, 64)
        if not key:
            raise NotFound("name a token by its id or prefix")
        query = (
            select(AccessToken, User.username)
            .join(User, User.id == AccessToken.user_id)
            .where(or_(AccessToken.id == key, AccessToken.prefix == key))
        )
        if owner is not None:
            query = query.where(User.username == owner)
        found = s.execute(query).all()
        if not found:
            raise NotFound(f"no token {key!r}")
        if len(found) > 1:
            raise NotFound(f"{key!r} names {len(found)} tokens; use the token's id")
        row, username = found[0]
        return row, str(username)

    def revoke_user(self, username: str, actor: str) -> int:
        """Revoke every live token of a user (disabled, or 'revoke all'). Returns how many."""
        with self._db.session() as s:
            user_id = s.scalar(select(User.id).where(User.username == username))
            if user_id is None:
                return 0
            result = s.execute(
                update(AccessToken)
                .where(AccessToken.user_id == user_id, AccessToken.revoked_at.is_(None))
                .values(revoked_at=utcnow(), revoked_by=(actor or "-")[:64])
            )
            count = int(getattr(result, "rowcount", 0) or 0)
        if count:
            audit("token.revoked", actor, target=username, count=count)
        return count

    # ---- every request ------------------------------------------------------------------------

    def authenticate(self, token: str | None, client: str | None = None) -> TokenUser:
        """The user and scopes of a live token, read from the database on every call (no cache, so a
        revocation anywhere counts at once). Raises TokenRefused with a reason safe to show; a token
        presented and refused is audited (bounded, RefusalAudit), a request without one is not."""
        if not token:
            raise TokenRefused("a bearer token is required (Authorization: Bearer pdfqa_...)")
        if not _TOKEN.match(token):
            self._refusals.record(visible_prefix(token), client, "malformed")
            raise TokenRefused("the token is not valid")
        now = utcnow()
        with self._db.engine.connect() as conn:
            row = conn.execute(
                select(
                    AccessToken.id,
                    AccessToken.prefix,
                    AccessToken.scopes,
                    AccessToken.expires_at,
                    AccessToken.revoked_at,
                    AccessToken.last_used_at,
                    User.username,
                    User.disabled,
                )
                .join(User, User.id == AccessToken.user_id)
                .where(AccessToken.token_hash == self._hash(token))
            ).first()
        if row is None:
            self._refusals.record(visible_prefix(token), client, "unknown")
            raise TokenRefused("the token is not valid")
        token_id, prefix, scopes, expires_at, revoked_at, last_used, username, disabled = row
        reason = (
            "revoked"
            if revoked_at is not None
            else "expired"
            if expires_at <= now
            else "user disabled"
            if disabled
            else ""
        )
        if reason:
            logger.bind(user=username).info("token refused token={} reason={}", prefix, reason)
            self._refusals.record(str(prefix), client, reason, str(username))
            raise TokenRefused(
                f"the token is {reason}" if reason != "user disabled" else "the token's user is disabled"
            )
        if last_used is None or now - last_used > TOUCH_EVERY:
            with self._db.session() as s:
                s.execute(update(AccessToken).where(AccessToken.id == token_id).values(last_used_at=now))
        return TokenUser(
            username=str(username), token_id=str(token_id), prefix=str(prefix), scopes=effective_scopes(scopes)
        )


def _info(row: AccessToken, username: str) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        user=username,
        name=row.name,
        prefix=row.prefix,
        scopes=row.scopes.split(),
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )
