"""Who is calling and the per-tab state: the signed-in user of a request, the server-side state of
one browser tab (gr.State, never sent to the browser) and the rule that a tab's state belongs to the
first user who used it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr
from loguru import logger

from app.config import AuthSettings
from app.errors import NotSignedIn
from app.web.auth_routes import COOKIE_NAME
from app.web.edge_checks import cookie_value
from app.web.identity import current_user, hf_allowed

Session = dict[str, Any]
UserOf = Callable[[gr.Request | None], str]  # the signed-in user of a request, or NotSignedIn


def signed_in_user(auth: AuthSettings) -> UserOf:
    """The function every page asks for the caller's name (password or Hugging Face sign-in)."""

    def user_of(request: gr.Request | None) -> str:
        return current_user(
            request,
            auth.mode,
            lambda info: hf_allowed(info, auth.allowed_users, auth.allowed_orgs, auth.allow_any_hf_user),
        )

    return user_of


def session_token(request: gr.Request | None) -> str | None:
    """The signed-in browser's session token (its cookie), to ask how that browser signed in."""
    headers = getattr(request, "headers", None) or {}
    return cookie_value({str(k).lower(): str(v) for k, v in dict(headers).items()}, COOKIE_NAME)


def new_session() -> Session:
    """Per-browser-session state, kept server-side in gr.State (never sent to the browser)."""
    # "answers": the citations of each answer, by the answer's index in the chat (the page view and
    # the clickable [n] markers look them up there, so a source always belongs to its own answer).
    return {"conversation_id": None, "api_key": None, "citations": [], "answers": {}, "owner": None}


def bind_session(session: Session, owner: str) -> Session:
    """A browser tab's state belongs to the first user who used it; nobody else may use it (their
    own tab has its own state). The HTTP edge refuses a foreign session hash before this."""
    bound = session.get("owner")
    if bound is not None and bound != owner:
        logger.warning("refused another user's session state user={}", owner)
        raise NotSignedIn("not signed in")
    session["owner"] = owner
    return session


def tab_of(owner: str, request: gr.Request | None) -> str:
    """One browser tab of one user (Gradio's session hash; the edge refuses another user's)."""
    return f"{owner}/{getattr(request, 'session_hash', None) or '-'}"
