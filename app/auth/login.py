"""Signing in: throttle, check the password, open a session. Used by the web app's /login route.

The typed name is cleaned where it enters (app/clean.py) and resolved to the account's stored name
(`BOB` and `ｂｏｂ` sign in as `bob`); the session, the logs and the audit log carry that stored name.
A name that is no account is never written anywhere as typed (people type passwords into the
username box): logs, the audit log and the throttle's rows get `unknown:<12 hex>` instead.

Also the first-start admin bootstrap."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass

from loguru import logger

from app.audit import audit
from app.auth.sessions import SessionStore
from app.auth.throttle import LoginThrottle
from app.auth.users import UserExists, UserService
from app.clean import clean_line, username_key
from app.config import Settings
from app.errors import ConfigError

# The name of the installation key (app/storage/app_keys.py) that keys the pseudonym of unknown names.
LOGIN_NAME_KEY = "login-name-pseudonym"


@dataclass(frozen=True)
class LoginOutcome:
    result: str  # ok | failed | throttled
    token: str | None = None
    retry_after_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.result == "ok"


SSO_SUBJECT = "sso:callback"  # whom failed single sign-on callbacks are counted against (per address)


class LoginService:
    def __init__(
        self,
        users: UserService,
        throttle: LoginThrottle,
        sessions: SessionStore,
        *,
        name_hash_key: bytes,
        on_result: Callable[[str], None] | None = None,
    ) -> None:
        """`name_hash_key`: the per-installation key (app/storage/app_keys.py) of the pseudonym of
        unknown names, so a guessed password cannot be checked against the logs alone."""
        self._name_hash_key = name_hash_key
        self._users = users
        self._throttle = throttle
        self._sessions = sessions
        self._on_result = on_result

    async def login(self, username: str, password: str, address: str | None) -> LoginOutcome:
        """Blocking work (database, argon2) runs on worker threads so logins never stall the event loop."""
        typed = clean_line(username, 256)
        account = await asyncio.to_thread(self._users.find, typed) if typed else None
        subject = account or self.unknown_name(typed)
        log = logger.bind(user=subject, client=address)
        verdict = await asyncio.to_thread(self._throttle.check, subject, address)
        if not verdict.allowed:
            log.warning(
                "login refused user={} reason=throttled scope={} retry_after_s={:.0f}",
                subject,
                verdict.reason,
                verdict.retry_after_s,
            )
            outcome = LoginOutcome("throttled", retry_after_s=verdict.retry_after_s)
        else:
            if verdict.delay_s:
                await asyncio.sleep(verdict.delay_s)
            # An unknown name is checked against a dummy hash: the same work as a wrong password.
            ok = await asyncio.to_thread(self._users.authenticate, account or typed, password)
            if ok and account is not None:
                await asyncio.to_thread(self._throttle.success, subject, address)
                token = await asyncio.to_thread(self._sessions.create, account)
                log.info("login ok user={}", subject)
                outcome = LoginOutcome("ok", token=token)
            else:
                await asyncio.to_thread(self._throttle.failure, subject, address)
                log.warning("login failed user={}", subject)
                outcome = LoginOutcome("failed")
        if self._on_result is not None:
            self._on_result(outcome.result)
        audit("login", subject, outcome=outcome.result, client=address)
        return outcome

    async def login_sso(self, username: str, address: str | None, method: str) -> LoginOutcome:
        """Open a session for a user an identity provider vouched for (the caller checked the
        provider's token): the first sign-in creates the account (with an unusable random
        password); a disabled account is refused."""
        account, created = await asyncio.to_thread(self._users.find_or_create, username)
        if created:
            logger.info("first sign-in: user created user={} method={}", account, method)
            audit("user.created", "system", target=account, method=method)
        log = logger.bind(user=account, client=address)
        if not await asyncio.to_thread(self._users.is_active, account):
            log.warning("login refused user={} method={} reason=disabled", account, method)
            outcome = LoginOutcome("failed")
        else:
            await asyncio.to_thread(self._throttle.success, SSO_SUBJECT, address)
            token = await asyncio.to_thread(self._sessions.create, account, None, method)
            log.info("login ok user={} method={}", account, method)
            outcome = LoginOutcome("ok", token=token)
        if self._on_result is not None:
            self._on_result(outcome.result)
        audit("login", account, outcome=outcome.result, client=address, method=method)
        return outcome

    async def sso_gate(self, address: str | None) -> LoginOutcome | None:
        """Before a single sign-on callback is worked on: None to go on, or a throttled outcome
        when this address has failed too many callbacks lately (forged or replayed states, codes
        the provider refuses: each good-looking one costs a request to the provider)."""
        verdict = await asyncio.to_thread(self._throttle.check, SSO_SUBJECT, address)
        if not verdict.allowed:
            logger.bind(client=address).warning(
                "sso callback refused reason=throttled scope={} retry_after_s={:.0f}",
                verdict.reason,
                verdict.retry_after_s,
            )
            return LoginOutcome("throttled", retry_after_s=verdict.retry_after_s)
        if verdict.delay_s:
            await asyncio.sleep(verdict.delay_s)
        return None

    async def sso_failed(self, address: str | None, method: str) -> None:
        """A single sign-on callback refused: counted against the address like a failed password."""
        await asyncio.to_thread(self._throttle.failure, SSO_SUBJECT, address)
        if self._on_result is not None:
            self._on_result("failed")
        audit("login", SSO_SUBJECT, outcome="failed", client=address, method=method)

    def unknown_name(self, typed: str) -> str:
        """How a name that is no account appears in logs: a short hash of its compared form, so
        repeated attempts with one name can be told apart without the text ever being written."""
        data = username_key(typed).encode("utf-8", "surrogatepass")
        return f"unknown:{hmac.new(self._name_hash_key, data, hashlib.sha256).hexdigest()[:12]}"


def bootstrap_admin(users: UserService, settings: Settings) -> None:
    """No default credentials: the first start creates the admin from the environment, or stops.

    Idempotent: instances starting together on an empty database may both try; the one that finds
    the admin created under it goes on."""
    name, password = settings.admin_username, settings.admin_password
    for duplicate in users.case_duplicates():
        logger.warning(
            "user={!r} differs from an older account only by case; it signs in with its exact name only. "
            "Remove or rename one of them (see migration 0008)",
            duplicate,
        )
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
    try:
        info = users.add(name, password.get_secret_value(), is_admin=True)
    except UserExists:
        logger.info("first start: the admin was created by another instance starting at the same time user={}", name)
        return
    logger.info("first start: admin user created user={}", info.username)
    audit("user.created", "system", target=info.username, admin=True)
