"""auth.mode trusted_header: the user is named by an authenticating proxy in front of the app
(oauth2-proxy, Pomerium, Authelia, a company gateway) in a request header, e.g. X-Forwarded-User,
with the user's groups in another, e.g. X-Forwarded-Groups.

The header counts only on a connection from one of `server.trusted_proxies` (the request-id
middleware records whether the connection's own peer is one, before forwarded headers are
applied); from anyone else it is ignored, and the request is refused as not signed in. The first
request of a new name creates the account (unusable random password), a disabled account is
refused, and the groups header keeps group memberships in step like single sign-on does (at most
once a minute per user and header value on each instance).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from typing import Any

from loguru import logger

from app.audit import audit
from app.auth.groups import GroupService
from app.auth.users import UserService
from app.clean import clean_line
from app.errors import AuthError
from app.web.edge_checks import NotAllowed, Scope

SYNC_EVERY_S = 60.0
_RECENT_MAX = 10_000


def from_trusted_proxy(scope: Any) -> bool:
    state = scope.get("state") if isinstance(scope, dict) else None
    return bool(state and state.get("from_trusted_proxy"))


class HeaderUsers:
    def __init__(self, users: UserService, groups: GroupService, user_header: str, groups_header: str) -> None:
        self._users = users
        self._groups = groups
        self._user_header = user_header.lower()
        self._groups_header = groups_header.lower()
        self._synced: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, headers: dict[str, str]) -> str | None:
        """For the edge: the account the trusted proxy names, None when no trusted proxy names one."""
        if not from_trusted_proxy(scope):
            return None
        name = clean_line(headers.get(self._user_header, ""), 256)
        if not name:
            return None
        return await asyncio.to_thread(self.account, name, headers.get(self._groups_header))

    async def gradio_user(self, request: Any) -> str | None:
        """For Gradio's `auth_dependency`: the same answer, None instead of a refusal."""
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            return await self(request.scope, headers)
        except NotAllowed:
            return None

    def account(self, name: str, groups: str | None) -> str:
        try:
            account, created = self._users.find_or_create(name)
        except AuthError as e:
            raise NotAllowed(f"this account name cannot be used here: {e}") from None
        if created:
            logger.info("first request: user created user={} method=trusted_header", account)
            audit("user.created", "system", target=account, method="trusted_header")
        if not self._users.is_active(account):
            raise NotAllowed("this account is disabled; ask an administrator")
        if groups is not None and self._due(account, groups):
            names = [g.strip() for g in groups.split(",") if g.strip()]
            self._groups.sync(account, names[:200], source="sso")
        return account

    def _due(self, account: str, groups: str) -> bool:
        key, now = (account, groups[:4096]), time.monotonic()
        with self._lock:
            last = self._synced.get(key)
            if last is not None and now - last < SYNC_EVERY_S:
                return False
            self._synced[key] = now
            self._synced.move_to_end(key)
            while len(self._synced) > _RECENT_MAX:
                self._synced.popitem(last=False)
            return True
