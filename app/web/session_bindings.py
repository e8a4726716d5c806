"""Ids a browser makes up, bound to the first signed-in user who uses them (see SessionBindings)."""

from __future__ import annotations

from collections import OrderedDict


class SessionBindings:
    """Gradio keys a browser tab's state and event stream by a `session_hash` the browser makes up.
    The first signed-in user to use a hash owns it; anyone else presenting it is refused. In process
    memory on purpose: Gradio's queue and states are per process too (hence sticky sessions).

    Bounded per user: a user's oldest keys go when they hold more than `per_user`, so no number of
    new keys from one user can push out another user's binding (which would leave that hash free
    for anyone to claim)."""

    def __init__(self, per_user: int = 10_000) -> None:
        self._owners: dict[str, str] = {}
        self._by_user: dict[str, OrderedDict[str, None]] = {}
        self._per_user = per_user

    def owner(self, key: str) -> str | None:
        return self._owners.get(key)

    def claim(self, session_hash: str, user: str) -> bool:
        owner = self._owners.get(session_hash)
        if owner is not None:
            if owner == user:
                self._by_user[user].move_to_end(session_hash)
            return owner == user
        self._owners[session_hash] = user
        keys = self._by_user.setdefault(user, OrderedDict())
        keys[session_hash] = None
        if len(keys) > self._per_user:
            oldest, _ = keys.popitem(last=False)
            del self._owners[oldest]
        return True

    def allowed(self, session_hash: str, user: str | None) -> bool:
        owner = self._owners.get(session_hash)
        return owner is None or owner == user
