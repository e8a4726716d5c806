"""User accounts in the app database."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.auth.passwords import MIN_LENGTH, hash_password, needs_rehash, verify_password
from app.errors import AuthError, NotFound
from app.storage.db import Database, LoginSession, User

_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class UserInfo(BaseModel):
    username: str
    is_admin: bool
    disabled: bool
    created_at: datetime


UserList = list[UserInfo]


class UserService:
    def __init__(self, db: Database) -> None:
        self._db = db

    @staticmethod
    def _check_password(password: str) -> None:
        if len(password) < MIN_LENGTH:
            raise AuthError(f"the password must have at least {MIN_LENGTH} characters")

    def add(self, username: str, password: str, is_admin: bool = False) -> UserInfo:
        if not _USERNAME.match(username):
            raise AuthError("a username is 1-64 letters, digits, '.', '_', '@' or '-'")
        self._check_password(password)
        with self._db.session() as s:
            if s.scalar(select(User).where(User.username == username)) is not None:
                raise AuthError(f"user {username!r} already exists")
            user = User(username=username, password_hash=hash_password(password), is_admin=is_admin)
            s.add(user)
            s.flush()
            return UserInfo.model_validate(user, from_attributes=True)

    def list(self) -> UserList:
        with self._db.session() as s:
            return [
                UserInfo.model_validate(u, from_attributes=True)
                for u in s.scalars(select(User).order_by(User.username))
            ]

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
            self._get(s, username).disabled = disabled
            if disabled:
                _end_sessions(s, username)

    def set_admin(self, username: str, is_admin: bool) -> None:
        with self._db.session() as s:
            self._get(s, username).is_admin = is_admin

    def remove(self, username: str) -> None:
        with self._db.session() as s:
            _end_sessions(s, username)
            s.delete(self._get(s, username))

    def authenticate(self, username: str, password: str) -> bool:
        """True for an enabled user with this password. Same work for unknown users."""
        with self._db.session() as s:
            user = s.scalar(select(User).where(User.username == username))
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
            raise NotFound(f"no user named {username!r}")
        return user


def _end_sessions(s: Session, username: str) -> None:
    s.execute(delete(LoginSession).where(LoginSession.username == username))
