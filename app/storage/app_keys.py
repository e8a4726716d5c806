"""Random per-installation keys kept in the app database, so every instance uses the same one and
it survives restarts and the loss of an instance. Made on first use; two instances making it at
once both end up with the one that was stored first."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.storage.db import AppKey, Database


def installation_key(db: Database, name: str) -> bytes:
    """The key called `name`, made (32 random bytes) the first time any instance asks for it."""
    for _ in range(2):
        with db.session() as s:
            value = s.scalar(select(AppKey.value).where(AppKey.name == name))
        if value is not None:
            return bytes.fromhex(value)
        try:
            with db.session() as s:
                s.add(AppKey(name=name, value=secrets.token_hex(32)))
        except IntegrityError:
            continue  # another instance stored it first: read theirs
    raise RuntimeError(f"the installation key {name!r} could not be read or stored")
