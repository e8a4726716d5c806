"""Who is calling: always taken from the server-side session, never from a value the browser sends."""

from __future__ import annotations

from typing import Any

import gradio as gr

from app.errors import AuthError


def current_user(request: gr.Request | None, mode: str) -> str:
    """The workspace owner for this request.

    password mode: the username Gradio's login attached to the session cookie.
    hf_oauth mode: the Hugging Face username from the OAuth session (as gr.OAuthProfile reads it)."""
    if request is None:
        raise AuthError("not signed in")
    if mode == "hf_oauth":
        session: Any = getattr(request, "session", None) or {}
        info = session.get("oauth_info") or {}
        name = (info.get("userinfo") or {}).get("preferred_username")
        if name:
            return f"hf:{name}"  # a namespace of its own: never collides with a local account
        raise AuthError("not signed in")
    name = getattr(request, "username", None)
    if not name:
        raise AuthError("not signed in")
    return str(name)
