"""Who is calling: always taken from the server-side session, never from a value the browser sends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from app.errors import AuthError, NotSignedIn


def hf_allowed(userinfo: dict[str, Any], users: list[str], orgs: list[str], anyone: bool) -> bool:
    """Is this Hugging Face account on the allow-list (by name, or by one of its organisations)?"""
    if anyone:
        return True
    name = str(userinfo.get("preferred_username") or "")
    if name and name.lower() in {u.lower() for u in users}:
        return True
    member_of = {str(o.get("preferred_username") or o.get("name") or "").lower() for o in userinfo.get("orgs") or []}
    return bool(member_of & {o.lower() for o in orgs})


def current_user(request: gr.Request | None, mode: str, allow: Callable[[dict[str, Any]], bool] | None = None) -> str:
    """The workspace owner for this request.

    password mode: the username Gradio's login attached to the session cookie.
    hf_oauth mode: the Hugging Face username from the OAuth session (as gr.OAuthProfile reads it)."""
    if request is None:
        raise NotSignedIn("not signed in")
    if mode == "hf_oauth":
        # Gradio's login check (auth_dependency, app/web/hf_session.py) names the signed-in, allowed
        # account; gr.Request cannot convert the OAuth session itself in a queued event.
        signed_in = getattr(request, "username", None)
        if isinstance(signed_in, str) and signed_in.startswith("hf:"):
            return signed_in
        session: Any = getattr(request, "session", None) or {}
        info = session.get("oauth_info") or {}
        userinfo = info.get("userinfo") or {}
        name = userinfo.get("preferred_username")
        if name and allow is not None and not allow(userinfo):
            raise AuthError("this Hugging Face account is not allowed here; ask the operator to add it")
        if name:
            return f"hf:{name}"  # a namespace of its own: never collides with a local account
        raise NotSignedIn("not signed in")
    name = getattr(request, "username", None)
    if not name:
        raise NotSignedIn("not signed in")
    return str(name)
