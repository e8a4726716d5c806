"""Bearer-token authentication, scopes and the per-token rate limit of every API route.

No route of the API answers without a live token: each router depends on `require(scope)`, which
reads `Authorization: Bearer pdfqa_...`, checks it against the database (app/auth/tokens.py: no
cache, so a revoked token is refused at once on every instance), checks the scope and counts the
request against the token's rate limit (in the database: shared by every instance).
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from app.api.errors import ApiError
from app.auth.tokens import TokenRefused, TokenService, TokenUser
from app.usage.rate_limit import SharedRateLimiter

# Only for the schema (a "bearer" security scheme on every route, so the docs page's Authorize
# button sends the token); the header is read and checked below, whatever this finds.
SCHEME = HTTPBearer(
    scheme_name="token", description="A personal access token: `pdfqa_...`", bearerFormat="pdfqa_", auto_error=False
)


def bearer(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class TokenAuth:
    def __init__(self, tokens: TokenService, limiter: SharedRateLimiter) -> None:
        self.tokens = tokens
        self.limiter = limiter

    def require(self, scope: str) -> Callable[[Request], Awaitable[TokenUser]]:
        """A FastAPI dependency: the token's user, when the token is live and holds `scope`."""

        async def dependency(
            request: Request,
            _: HTTPAuthorizationCredentials | None = Depends(SCHEME),  # noqa: B008
        ) -> TokenUser:
            try:
                client = request.client.host if request.client else None
                user = await run_in_threadpool(self.tokens.authenticate, bearer(request), client)
            except TokenRefused as e:
                raise ApiError(401, "unauthorized", str(e), {"WWW-Authenticate": 'Bearer realm="pdfqa"'}) from None
            request.state.user = user.username  # the access log's user (app/web/tracing.py)
            request.state.token = user.prefix
            if not user.allows(scope):
                raise ApiError(403, "insufficient_scope", f"this token lacks the '{scope}' scope", scope=scope)
            wait = await run_in_threadpool(self.limiter.admit, str(user.token_id))
            if wait > 0:
                raise ApiError(
                    429,
                    "rate_limited",
                    f"at most {self.limiter.per_minute} requests a minute per token; try again in {wait:.0f} s",
                    {"Retry-After": str(max(1, int(wait + 0.999)))},
                    retry_after_s=round(wait, 1),
                )
            return user

        return dependency


class UserSlots:
    """Questions one user may have running at once through the API (server.max_queued_per_user, the
    web app's bound on one user's events), so that one script cannot hold every worker thread."""

    def __init__(self, per_user: int) -> None:
        self.per_user = per_user
        self._running: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, user: str) -> None:
        with self._lock:
            if self._running.get(user, 0) >= self.per_user:
                raise ApiError(
                    429,
                    "too_many_requests",
                    f"at most {self.per_user} questions of yours may run at once; wait for one to finish",
                    {"Retry-After": "1"},
                )
            self._running[user] = self._running.get(user, 0) + 1

    def give_back(self, user: str) -> None:
        with self._lock:
            left = self._running.get(user, 0) - 1
            if left > 0:
                self._running[user] = left
            else:
                self._running.pop(user, None)
