"""The login callback given to Gradio, and the first-start admin bootstrap."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from loguru import logger

from app.auth.throttle import LoginThrottle
from app.auth.users import UserService
from app.config import Settings
from app.errors import ConfigError

# Set by ClientAddressMiddleware for the duration of each HTTP request: Gradio's auth callback
# only receives (username, password).
client_address: ContextVar[str | None] = ContextVar("client_address", default=None)


class ClientAddressMiddleware:
    """Pure ASGI middleware (same task as the endpoint, so the context variable is visible)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        token = client_address.set(client[0] if client else None)
        try:
            await self.app(scope, receive, send)
        finally:
            client_address.reset(token)


def make_login(
    users: UserService, throttle: LoginThrottle, on_result: Callable[[bool], None] | None = None
) -> Callable[[str, str], Awaitable[bool]]:
    """An async (username, password) -> bool for gr.mount_gradio_app(auth=...).

    Password hashing runs on a worker thread so logins never stall the event loop."""

    async def login(username: str, password: str) -> bool:
        address = client_address.get()
        log = logger.bind(user=username[:64], client=address)
        if throttle.blocked(username, address):
            throttle.failure(username, address)
            log.warning("login refused reason=throttled")
            ok = False
        else:
            ok = await asyncio.to_thread(users.authenticate, username, password)
            if ok:
                throttle.success(username, address)
                log.info("login ok")
            else:
                throttle.failure(username, address)
                log.warning("login failed")
        if on_result is not None:
            on_result(ok)
        return ok

    return login


def bootstrap_admin(users: UserService, settings: Settings) -> None:
    """No default credentials: the first start creates the admin from the environment, or stops."""
    if users.count() > 0:
        return
    name, password = settings.admin_username, settings.admin_password
    if not name or password is None:
        raise ConfigError(
            "no user exists yet. For the first start set APP_ADMIN_USERNAME and APP_ADMIN_PASSWORD "
            "(at least 8 characters), or create one with `python -m app users add NAME --admin`."
        )
    users.add(name, password.get_secret_value(), is_admin=True)
    logger.info("first start: admin user created user={}", name)
