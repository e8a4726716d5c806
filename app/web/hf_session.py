"""hf_oauth mode: who is signed in, read from the signed session cookie that Gradio's Hugging Face
sign-in writes (gradio/oauth.py), for the edge and for Gradio's own login check.

The cookie is decoded by Starlette's SessionMiddleware itself, built with the arguments Gradio gave
the one it installed, so the format and the secret stay Gradio's. The account must be on the
allow-list (auth.allowed_users / allowed_orgs) and its sign-in not expired; the user is then
`hf:<name>`, as app/web/identity.py names it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from starlette.middleware.sessions import SessionMiddleware
from starlette.types import Message, Receive, Send
from starlette.types import Scope as StarletteScope

from app.web.edge_checks import NotAllowed, Scope

NOT_ALLOWED = "this Hugging Face account is not allowed here; ask the operator to add it"


def signed_in_userinfo(session: Mapping[str, Any]) -> dict[str, Any] | None:
    """The OAuth userinfo of a live sign-in (None: nobody signed in, or the sign-in expired)."""
    info = session.get("oauth_info")
    if not isinstance(info, dict):
        return None
    expires_at = info.get("expires_at")
    if isinstance(expires_at, int | float) and expires_at < time.time():
        return None
    userinfo = info.get("userinfo")
    if not isinstance(userinfo, dict) or not isinstance(userinfo.get("preferred_username"), str):
        return None
    return userinfo if userinfo["preferred_username"] else None


class HfSessionUsers:
    """Resolves the allowed Hugging Face user of a request, from its session cookie."""

    def __init__(self, gradio_app: Any, allow: Callable[[dict[str, Any]], bool]) -> None:
        found = [m for m in gradio_app.user_middleware if m.cls is SessionMiddleware]
        if len(found) != 1:
            raise RuntimeError("Gradio's Hugging Face sign-in installed no session middleware (a Gradio change?)")
        self._decoder = SessionMiddleware(_keep_scope, *found[0].args, **found[0].kwargs)
        self._allow = allow

    async def __call__(self, scope: Scope, _headers: dict[str, str]) -> str | None:
        """For the edge: the user, None for a stranger; raises NotAllowed for an account not listed."""
        probe: Scope = {"type": "http", "headers": scope.get("headers", []), "path": "/", "query_string": b""}
        await self._decoder(probe, _no_receive, _no_send)
        return self.user(probe.get("session") or {})

    def user(self, session: Mapping[str, Any]) -> str | None:
        userinfo = signed_in_userinfo(session)
        if userinfo is None:
            return None
        if not self._allow(userinfo):
            raise NotAllowed(NOT_ALLOWED)
        return f"hf:{userinfo['preferred_username']}"

    def gradio_user(self, request: Any) -> str | None:
        """For Gradio's `auth_dependency` (its login check on /config, the queue, files): the user or None."""
        try:
            return self.user(request.session)
        except (NotAllowed, AssertionError):  # AssertionError: no session middleware on this request
            return None


async def _keep_scope(_scope: StarletteScope, _receive: Receive, _send: Send) -> None:
    """The decoder's inner app: the decoded session stays in the probe scope."""


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


async def _no_send(_message: Message) -> None:
    return None
