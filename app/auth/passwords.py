"""argon2id password hashing. Unknown users are checked against a dummy hash so that a wrong
username takes as long to reject as a wrong password (no user enumeration by timing)."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

MIN_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-work check; `password_hash=None` (unknown user) still runs a full verification."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    """Made once, by a server before it takes logins (`prepare`), by a command on first use: 0.1 s of
    argon2 work that a command which checks no password never pays."""
    return _hasher.hash("dummy password that matches nothing")


def prepare() -> None:
    """Make the dummy hash now, so not even the first unknown username takes longer to reject."""
    _dummy_hash()


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
