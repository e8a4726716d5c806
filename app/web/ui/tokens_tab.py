"""The Admin tab's Tokens sub-tab: everyone's personal access tokens (owner, label, prefix, scopes,
state, expiry, last use, revocation; never a token itself), filtered by user, and revoking one after
a confirmation that names its owner and prefix. A click on a row picks its token. Every handler
checks on the server that the caller is an administrator (TokensAdmin); a revocation is audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import gradio as gr

from app.admin.tokens_admin import LISTED, TokensAdmin
from app.auth.tokens import TokenInfo
from app.web.ui.errors import client_host, refused, ui_errors
from app.web.ui.i18n import I18N, language, msg
from app.web.ui.safe_markdown import literal

PRIVATE: dict[str, Any] = {"api_visibility": "private"}
ID_COLUMN = -1  # the table's last column: the token's id, what a revocation names


class TokensTab:
    def __init__(self, tokens: TokensAdmin, user_of: Callable[[gr.Request | None], str]) -> None:
        self._tokens = tokens
        self._user_of = user_of

    def render(self) -> None:
        """Call inside the sub-tab."""
        with gr.Row():
            self.user = gr.Textbox(label=I18N("tokens.admin_user"), elem_id="tokens-admin-user", scale=3)
            self.show = gr.Button(I18N("tokens.admin_show"), elem_id="tokens-admin-show", scale=1)
        self.caption = gr.Markdown(elem_id="tokens-admin-caption")
        self.table = gr.Dataframe(value=[], interactive=False, elem_id="admin-tokens")  # one line per token
        with gr.Row():
            self.chosen = gr.Textbox(label=I18N("tokens.revoke_id"), elem_id="tokens-admin-id", scale=3)
            self.revoke = gr.Button(I18N("tokens.revoke"), variant="stop", elem_id="tokens-admin-revoke", scale=1)
        dialog: dict[str, Any] = {"elem_id": "confirm-revoke-token", "elem_classes": ["confirm-dialog"]}
        with gr.Group(visible=False, **dialog) as self.confirm:
            self.confirm_text = gr.Markdown(elem_id="confirm-revoke-token-text")
            with gr.Row():
                self.revoke_yes = gr.Button(I18N("tokens.revoke"), variant="stop", elem_id="tokens-admin-revoke-yes")
                self.revoke_no = gr.Button(I18N("chat.cancel"), elem_id="tokens-admin-revoke-no")
        self.planned = gr.State(None)  # the id of the token the confirmation names
        self.result = gr.Markdown(elem_id="tokens-admin-result")

    def wire(self, opened: list[Any]) -> None:
        views = [self.caption, self.table]
        for trigger in opened:
            trigger(self.listing, [self.user], views, show_progress="hidden", **PRIVATE)
        self.show.click(self.listing, [self.user], views, **PRIVATE)
        self.user.submit(self.listing, [self.user], views, **PRIVATE)
        self.table.select(self.pick, None, [self.chosen], **PRIVATE)
        confirm = [self.confirm, self.confirm_text, self.planned]
        self.revoke.click(self.ask_revoke, [self.chosen], confirm, **PRIVATE)
        self.chosen.submit(self.ask_revoke, [self.chosen], confirm, **PRIVATE)
        self.revoke_yes.click(
            self.revoke_confirmed, [self.planned, self.user], [self.result, *views, *confirm], **PRIVATE
        )
        self.revoke_no.click(lambda: (gr.update(visible=False), "", None), None, confirm, **PRIVATE)

    # ---- handlers -----------------------------------------------------------------------------

    @ui_errors
    def listing(self, user: str, request: gr.Request) -> tuple[str, dict[str, Any]]:
        admin, lang = self._user_of(request), language(request)
        return self._view(admin, (user or "").strip(), lang)

    @ui_errors
    def pick(self, evt: gr.SelectData, request: gr.Request) -> Any:
        """A click on a row: its token's id into the box (nothing is revoked before the confirmation)."""
        self._tokens.require(self._user_of(request))
        row = evt.row_value or []
        return gr.update(value=str(row[ID_COLUMN])) if row else gr.update()

    @ui_errors
    def ask_revoke(self, id_or_prefix: str, request: gr.Request) -> tuple[Any, str, Any]:
        admin, lang = self._user_of(request), language(request)
        key = (id_or_prefix or "").strip()
        if not key:
            raise refused(msg("tokens.need_token", lang), lang)
        t = self._tokens.find(admin, key)  # unknown or ambiguous: refused with its reason
        if t.revoked_at is not None:
            raise refused(msg("tokens.already_revoked", lang, prefix=literal(t.prefix)), lang)
        text = msg(
            "tokens.confirm_revoke",
            lang,
            prefix=literal(t.prefix),
            name=literal(t.name or "-"),
            owner=literal(t.user),
            scopes=" ".join(t.scopes),
        )
        return gr.update(visible=True), text, t.id

    @ui_errors
    def revoke_confirmed(self, planned: str | None, user: str, request: gr.Request) -> tuple[Any, ...]:
        admin, lang = self._user_of(request), language(request)
        if not planned:
            raise refused(msg("tokens.need_token", lang), lang)
        t = self._tokens.revoke(admin, planned, client_host(request))
        done = msg("tokens.admin_revoked", lang, prefix=literal(t.prefix), owner=literal(t.user))
        caption, table = self._view(admin, (user or "").strip(), lang)
        return done, caption, table, gr.update(visible=False), "", None

    # ---- the table ----------------------------------------------------------------------------

    def _view(self, admin: str, user: str, lang: str) -> tuple[str, dict[str, Any]]:
        tokens = self._tokens.list(admin, user or None)
        caption = msg("tokens.admin_newest", lang, n=LISTED) if len(tokens) >= LISTED else ""
        headers = msg("tokens.admin_headers", lang).split("|")
        return caption, {"headers": headers, "data": [_row(t, lang) for t in tokens]}


def _row(t: TokenInfo, lang: str) -> list[str]:
    state = "revoked" if t.revoked_at else "active" if t.active else "expired"
    return [
        t.user,
        t.name or "-",
        t.prefix,
        " ".join(t.scopes),
        msg(f"tokens.state.{state}", lang),
        _when(t.expires_at),
        _when(t.last_used_at),
        _when(t.revoked_at),
        t.id,
    ]


def _when(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M}" if at is not None else "-"
