"""/login and /logout, served by the app instead of Gradio's built-in routes (which keep tokens in
process memory, set `SameSite=None` and a second cookie without `Secure`).

The cookie carries a random token; the database keeps its hash (app/auth/sessions.py). Gradio reads
the same cookie name, and its token lookup is pointed at the same store, so the UI and its API see
exactly the sessions these routes open and close.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from app.audit import audit
from app.auth.login import LoginService
from app.auth.sessions import SessionStore

COOKIE_ID = "pdfqa"  # Gradio's cookie is named access-token-<cookie_id>; stable across instances
COOKIE_NAME = f"access-token-{COOKIE_ID}"


def set_session_cookie(response: Response, token: str, max_age_s: int, secure: bool) -> None:
    """The signed-in browser's cookie, the same for a password and a single sign-on."""
    response.set_cookie(COOKIE_NAME, token, max_age=max_age_s, path="/", httponly=True, samesite="lax", secure=secure)


def auth_router(
    login: LoginService, sessions: SessionStore, max_age_s: int, force_secure: bool, passwords: bool = True
) -> APIRouter:
    """`passwords` False (single sign-on only, auth.oidc.local_passwords): POST /login refuses."""
    router = APIRouter()

    def secure(request: Request) -> bool:
        return force_secure or request.url.scheme == "https"

    @router.post("/login", include_in_schema=False)
    @router.post("/login/", include_in_schema=False)
    async def do_login(
        request: Request, username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = ""
    ) -> Response:
        if not passwords:
            return JSONResponse({"detail": "Password sign-in is turned off: use single sign-on."}, status_code=400)
        address = request.client.host if request.client else None
        outcome = await login.login(username[:256], password[:1024], address)
        if outcome.result == "throttled":
            wait = max(1, int(outcome.retry_after_s + 0.999))
            # 400 is what Gradio's login page shows as a refusal; Retry-After tells scripts when.
            return JSONResponse(
                {"detail": f"Too many failed attempts. Try again in {wait} s."},
                status_code=400,
                headers={"Retry-After": str(wait)},
            )
        if not outcome.ok or outcome.token is None:
            return JSONResponse({"detail": "Incorrect credentials."}, status_code=400)
        response = JSONResponse({"success": True})
        set_session_cookie(response, outcome.token, max_age_s, secure(request))
        return response

    @router.get("/logout", include_in_schema=False)
    @router.get("/logout/", include_in_schema=False)
    def do_logout(request: Request, everywhere: bool = False) -> Response:
        token = request.cookies.get(COOKIE_NAME)
        user = sessions.resolve(token)
        if everywhere and user is not None:
            sessions.revoke_user(user)
        sessions.revoke(token)
        if user is not None:
            audit("logout", user, client=request.client.host if request.client else None, everywhere=everywhere)
        response = RedirectResponse("/", status_code=302)
        response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax", secure=secure(request))
        return response

    return router
