"""/login/oidc and /login/oidc/callback: single sign-on through an OpenID Connect provider
(app/auth/oidc.py). The attempt's state, nonce and PKCE verifier travel in a short-lived signed
cookie, so the instance that receives the callback need not be the one that started it. A
refusal is a short page in plain words with a link back, never a traceback."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable, Sequence

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.auth.login import LoginService
from app.auth.oidc import PENDING_MAX_AGE_S, OidcClient, OidcRefused, seal, unseal
from app.errors import AuthError
from app.web.auth_routes import set_session_cookie

PENDING_COOKIE = "pdfqa-oidc"
CALLBACK = "/login/oidc/callback"


def oidc_router(
    client: OidcClient,
    login: LoginService,
    cookie_key: bytes,
    max_age_s: int,
    force_secure: bool,
    public_url: str | None,
    sync_groups: Callable[[str, Sequence[str]], object] | None = None,
) -> APIRouter:
    """`sync_groups(username, provider_groups)`: called after each successful sign-in."""
    router = APIRouter()

    def secure(request: Request) -> bool:
        return force_secure or request.url.scheme == "https"

    def redirect_uri(request: Request) -> str:
        base = public_url.rstrip("/") if public_url else str(request.base_url).rstrip("/")
        return f"{base}{CALLBACK}"

    @router.get("/login/oidc", include_in_schema=False)
    async def begin(request: Request) -> Response:
        try:
            url, pending = await asyncio.to_thread(client.start, redirect_uri(request))
        except OidcRefused as e:
            return _refusal(str(e), 503)
        response = RedirectResponse(url, status_code=302)
        response.set_cookie(
            PENDING_COOKIE,
            seal(pending, cookie_key),
            max_age=PENDING_MAX_AGE_S,
            path="/login/oidc",
            httponly=True,
            samesite="lax",  # sent on the provider's top-level redirect back
            secure=secure(request),
        )
        return response

    @router.get(CALLBACK, include_in_schema=False)
    async def callback(
        request: Request, state: str = "", code: str = "", error: str = "", error_description: str = ""
    ) -> Response:
        address = request.client.host if request.client else None
        throttled = await login.sso_gate(address)
        if throttled is not None:
            wait = f"{throttled.retry_after_s:.0f}"
            return _refusal(f"too many failed sign-ins from this address; try again in {wait} s", 429)
        pending = unseal(request.cookies.get(PENDING_COOKIE), cookie_key)
        try:
            if error:
                raise OidcRefused(f"the identity provider refused the sign-in ({error[:64]})")
            if pending is None or not state or not code:
                raise OidcRefused("this sign-in was not started here or has expired; please sign in again")
            claims = await asyncio.to_thread(client.finish, redirect_uri(request), pending, state[:512], code[:4096])
            identity = client.identity(claims)
            outcome = await login.login_sso(identity.username, address, "oidc")
        except OidcRefused as e:
            await login.sso_failed(address, "oidc")
            return _refusal(str(e), 400, clear=True)
        except AuthError as e:  # a name the app cannot take as a username
            return _refusal(f"your account cannot be used here: {e}", 403, clear=True)
        if not outcome.ok or outcome.token is None:
            return _refusal("your account is disabled; ask an administrator", 403, clear=True)
        if sync_groups is not None:
            await asyncio.to_thread(sync_groups, identity.username, identity.groups)
        response = RedirectResponse("/", status_code=302)
        response.delete_cookie(PENDING_COOKIE, path="/login/oidc")
        set_session_cookie(response, outcome.token, max_age_s, secure(request))
        return response

    return router


def _refusal(message: str, status: int, clear: bool = False) -> Response:
    body = (
        "<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>"
        "<title>Sign-in refused</title><body style='font-family:sans-serif;max-width:36em;margin:4em auto'>"
        f"<h1>Sign-in refused</h1><p id=reason>{html.escape(message)}</p><p><a href='/'>Back to sign-in</a></p>"
    )
    response = HTMLResponse(body, status_code=status)
    if clear:
        response.delete_cookie(PENDING_COOKIE, path="/login/oidc")
    return response
