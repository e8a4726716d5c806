"""User accounts in the app database.

A username is cleaned once where it enters (app/clean.py `clean_line`) and compared in its key form
(`username_key`: NFKC, case-folded), kept unique in `users.username_key`: `Bob` cannot be created
beside `bob`, and signing in as `BOB` or `ｂｏｂ` is signing in as `bob`. Everything after sign-in
(sessions, ownership, the audit log) uses the stored name. Management commands (disable, remove,
...) name an account exactly as stored, so they never act on another spelling by surprise.
"""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.passwords import MIN_LENGTH, hash_password, needs_rehash, verify_password
from app.clean import clean_line, username_key
from app.errors import AuthError, NotFound
from app.storage.access_tokens import AccessToken
from app.storage.db import Database, LoginSession, User, utcnow

_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
# Migration 0008 gives an account whose name differs from an older one only by case the key
# `<key>` + this mark + `<id>`: no typed name has it, so that account signs in by its exact name.
_DUPLICATE_MARK = "\x1f"
# The stored "hash" of an account that signs in only through someone who vouches for it (single
# sign-on, a trusted proxy): no argon2 hash, so no password matches it (verify_password says False).
NO_PASSWORD = "!no-password"


class UserExists(AuthError):
    """The name (in its compared form) belongs to an account already."""


class UserInfo(BaseModel):
    username: str
    is_admin: bool
    disabled: bool
    created_at: datetime


UserList = list[UserInfo]
NameList = list[str]


class UserService:
    def __init__(self, db: Database) -> None:
        self._db = db

    @staticmethod
    def _check_password(password: str) -> None:
        if len(password) < MIN_LENGTH:
            raise AuthError(f"the password must have at least {MIN_LENGTH} characters")

    def add(self, username: str, password: str | None, is_admin: bool = False) -> UserInfo:
        """A new account (`password` None: one without a password, NO_PASSWORD). Refused
        (UserExists) when the name equals an existing one after NFKC and case folding, also when
        another process creates it at the same moment."""
        username = clean_line(username, 256)
        if not _USERNAME.match(username):
            raise AuthError("a username is 1-64 letters, digits, '.', '_', '@' or '-'")
        if password is not None:
            self._check_password(password)
        key = username_key(username)
        try:
            with self._db.session() as s:
                existing = s.scalar(select(User).where(or_(User.username == username, User.username_key == key)))
                if existing is not None:
                    raise UserExists(_exists_message(username, existing.username))
                stored = NO_PASSWORD if password is None else hash_password(password)
                user = User(username=username, username_key=key, password_hash=stored, is_admin=is_admin)
                s.add(user)
                s.flush()
                return UserInfo.model_validate(user, from_attributes=True)
        except IntegrityError as e:  # created by another process since the check above
            raise UserExists(_exists_message(username, self.find(username) or username)) from e

    def list(self) -> UserList:
        with self._db.session() as s:
            return [
                UserInfo.model_validate(u, from_attributes=True)
                for u in s.scalars(select(User).order_by(User.username))
            ]

    def find(self, username: str) -> str | None:
        """The stored name of the account `username` signs in as (exact name first, then the
        compared form), or None."""
        with self._db.session() as s:
            user = _find(s, username)
            return user.username if user else None

    def find_or_create(self, username: str) -> tuple[str, bool]:
        """(stored name, created) of the account someone else vouched for (an identity provider, a
        sign-in proxy): made on first sight without a password (NO_PASSWORD); AuthError for a name the
        app cannot take."""
        account = self.find(username)
        if account is not None:
            return account, False
        try:
            return self.add(username, None).username, True
        except UserExists:  # made by another instance a moment ago
            return self.find(username) or username, False

    def case_duplicates(self) -> NameList:
        """Accounts that differ from an older one only by case (kept by migration 0008)."""
        with self._db.session() as s:
            return list(s.scalars(select(User.username).where(User.username_key.contains(_DUPLICATE_MARK))))

    def get(self, username: str) -> UserInfo:
        """The account, or NotFound."""
        with self._db.session() as s:
            return UserInfo.model_validate(self._get(s, username), from_attributes=True)

    def count(self) -> int:
        with self._db.session() as s:
            return int(s.scalar(select(func.count(User.id))) or 0)

    def set_password(self, username: str, password: str) -> None:
        """A new password also ends every open session of the user."""
        self._check_password(password)
        with self._db.session() as s:
            self._get(s, username).password_hash = hash_password(password)
            _end_sessions(s, username)

    def set_disabled(self, username: str, disabled: bool) -> None:
        with self._db.session() as s:
            user = self._get(s, username)
            user.disabled = disabled
            if disabled:
                _end_sessions(s, username)
                # Its access tokens end too, for good (enabling the user again does not revive them).
                s.execute(
                    update(AccessToken)
                    .where(AccessToken.user_id == user.id, AccessToken.revoked_at.is_(None))
                    .values(revoked_at=utcnow(), revoked_by="user disabled")
                )

    def set_admin(self, username: str, is_admin: bool) -> None:
        with self._db.session() as s:
            self._get(s, username).is_admin = is_admin

    def remove(self, username: str) -> None:
        with self._db.session() as s:
            _end_sessions(s, username)
            s.delete(self._get(s, username))

    def has_password(self, username: str) -> bool:
        """False for an account made by single sign-on or a trusted proxy that was never given a
        password (`set_password` gives it one)."""
        with self._db.session() as s:
            return self._get(s, username).password_hash != NO_PASSWORD

    def admins_left(self, leaving: str) -> int:
        """Enabled administrators other than `leaving`."""
        with self._db.session() as s:
            query = select(func.count(User.id)).where(
                User.is_admin.is_(True), User.disabled.is_(False), User.username != leaving
            )
            return int(s.scalar(query) or 0)

    def authenticate(self, username: str, password: str) -> bool:
        """True for an enabled user with this password (the name in any spelling `find` accepts).
        Same work for unknown users."""
        with self._db.session() as s:
            user = _find(s, username)
            ok = verify_password(user.password_hash if user else None, password)
            if not ok or user is None or user.disabled:
                return False
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            return True

    def is_active(self, username: str) -> bool:
        with self._db.session() as s:
            user = s.scalar(select(User).where(User.username == username))
            return user is not None and not user.disabled

    @staticmethod
    def _get(s: Session, username: str) -> User:
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            other = _find(s, username)
            hint = f" (did you mean {other.username!r}?)" if other is not None else ""
            raise NotFound(f"no such user: {username!r}{hint}")
        return user


def _find(s: Session, username: str) -> User | None:
    """The exact name wins (an account kept beside another spelling by migration 0008), then the key."""
    name = clean_line(username, 256)
    found = s.scalars(select(User).where(or_(User.username == name, User.username_key == username_key(name)))).all()
    return next((u for u in found if u.username == name), found[0] if found else None)


def _exists_message(wanted: str, existing: str) -> str:
    if wanted == existing:
        return f"user {existing!r} already exists"
    return f"user {existing!r} already exists (names that differ only in case or width are the same name)"


def _end_sessions(s: Session, username: str) -> None:
    s.execute(delete(LoginSession).where(LoginSession.username == username))
