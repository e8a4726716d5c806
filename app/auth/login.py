"""Signing in: throttle, check the password, open a session. Used by the web app's /login route.

Also the first-start admin bootstrap."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from loguru import logger

from app.audit import audit
from app.auth.sessions import SessionStore
from app.auth.throttle import LoginThrottle
from app.auth.users import UserService
from app.config import Settings
from app.errors import ConfigError


@dataclass(frozen=True)
class LoginOutcome:
    result: str  # ok | failed | throttled
    token: str | None = None
    retry_after_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.result == "ok"


class LoginService:
    def __init__(
        self,
        users: UserService,
        throttle: LoginThrottle,
        sessions: SessionStore,
        on_result: Callable[[str], None] | None = None,
    ) -> None:
        self._users = users
        self._throttle = throttle
        self._sessions = sessions
        self._on_result = on_result

    async def login(self, username: str, password: str, address: str | None) -> LoginOutcome:
        """Blocking work (database, argon2) runs on worker threads so logins never stall the event loop."""
        username = username.strip()
        log = logger.bind(user=username[:64], client=address)
        verdict = await asyncio.to_thread(self._throttle.check, username, address)
        if not verdict.allowed:
            log.warning(
                "login refused reason=throttled scope={} retry_after_s={:.0f}", verdict.reason, verdict.retry_after_s
            )
            outcome = LoginOutcome("throttled", retry_after_s=verdict.retry_after_s)
        else:
            if verdict.delay_s:
                await asyncio.sleep(verdict.delay_s)
            ok = await asyncio.to_thread(self._users.authenticate, username, password)
            if ok:
                await asyncio.to_thread(self._throttle.success, username, address)
                token = await asyncio.to_thread(self._sessions.create, username)
                log.info("login ok")
                outcome = LoginOutcome("ok", token=token)
            else:
                await asyncio.to_thread(self._throttle.failure, username, address)
                log.warning("login failed")
                outcome = LoginOutcome("failed")
        if self._on_result is not None:
            self._on_result(outcome.result)
        audit("login", username[:64], outcome=outcome.result, client=address)
        return outcome


def bootstrap_admin(users: UserService, settings: Settings) -> None:
    """No default credentials: the first start creates the admin from the environment, or stops."""
    name, password = settings.admin_username, settings.admin_password
    if users.count() > 0:
        if name or password is not None:
            logger.warning(
                "APP_ADMIN_USERNAME / APP_ADMIN_PASSWORD are ignored: users already exist "
                "(they only create the first admin; use `python -m app users` to manage accounts)"
            )
        return
    if not name or password is None:
        raise ConfigError(
            "no user exists yet. For the first start set APP_ADMIN_USERNAME and APP_ADMIN_PASSWORD "
            "(at least 8 characters), or create one with `python -m app users add NAME --admin`."
        )
    users.add(name, password.get_secret_value(), is_admin=True)
    logger.info("first start: admin user created user={}", name)
    audit("user.created", "system", target=name, admin=True)
