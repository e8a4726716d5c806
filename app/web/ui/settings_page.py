"""The Settings page: the user's own OpenAI API key (when llm.user_keys allows one; kept only in this
tab's server-side state, never stored), the tokens this user has used, their personal access
tokens for the API (TokensSection), and their data (DataSection: download it all, delete the
account). Also the `set_key` API."""

from __future__ import annotations

import html
from typing import Any, Literal

import gradio as gr

from app.admin.own_account import OwnAccount
from app.audit import audit
from app.auth.tokens import SCOPES, TokenService
from app.usage.accounting import UsageRecorder
from app.web.ui.errors import client_host, refused, ui_errors
from app.web.ui.i18n import I18N, language, msg
from app.web.ui.session import Session, UserOf, bind_session, session_token

Update = dict[Any, Any]  # component -> its new value or gr.update(...)
PRIVATE: dict[str, Any] = {"api_visibility": "private"}


class SettingsPage:
    def __init__(
        self,
        usage: UsageRecorder,
        user_of: UserOf,
        session: gr.State,
        user_keys: Literal["off", "optional", "required"],
        tokens: TokenService | None = None,
        own_account: OwnAccount | None = None,
        leave_url: str = "/logout",
    ) -> None:
        self._usage = usage
        self.tokens = TokensSection(tokens, user_of) if tokens is not None else None
        self.data = DataSection(own_account, user_of, leave_url)
        self._user_of = user_of
        self.session = session  # the tab's state (layout.py makes it; the chat reads the key from it)
        self._user_keys = user_keys

    # ---- layout -------------------------------------------------------------------------------

    def render(self) -> None:
        """Build the components; call inside `with gr.Tab(...)`."""
        self.key: gr.Textbox | None = None
        if self._user_keys != "off":
            self.key = gr.Textbox(label=I18N("settings.key"), type="password", elem_id="api-key")
            with gr.Row():
                self.key_save = gr.Button(I18N("settings.key_save"), variant="primary")
                self.key_clear = gr.Button(I18N("settings.key_clear"))
        self.key_status = gr.Markdown()
        self.usage_line = gr.Markdown(label=I18N("settings.usage"))
        if self.tokens is not None:
            self.tokens.render()
        self.data.render()

    # ---- wiring -------------------------------------------------------------------------------

    def wire(self, load: Any) -> None:
        load(self.usage, None, self.usage_line, **PRIVATE)
        if self.tokens is not None:
            self.tokens.wire(load)
        self.data.wire(load)
        if self.key is None:
            return
        key_outputs = [self.key, self.session, self.key_status]
        self.key_save.click(self.set_key, [self.key, self.session], key_outputs, api_name="set_key")
        self.key.submit(self.set_key, [self.key, self.session], key_outputs, **PRIVATE)
        self.key_clear.click(self.clear_key, [self.session], key_outputs, **PRIVATE)

    # ---- handlers -----------------------------------------------------------------------------

    @ui_errors
    def set_key(self, key: str, session: Session, request: gr.Request) -> Update:
        """Keep the key in this session's server-side state only; clear the input field."""
        session = bind_session(session, self._user_of(request))
        lang = language(request)
        if self._user_keys == "off":
            raise refused(msg("keys_off", lang), lang)
        key = (key or "").strip()
        if not key:
            return self._key_shown({**session, "api_key": None}, msg("key_none", lang))
        audit("key.set", session["owner"], client=client_host(request))
        return self._key_shown({**session, "api_key": key}, msg("key_saved", lang))

    @ui_errors
    def clear_key(self, session: Session, request: gr.Request) -> Update:
        session = bind_session(session, self._user_of(request))
        audit("key.cleared", session["owner"], client=client_host(request))
        return self._key_shown({**session, "api_key": None}, msg("key_cleared", language(request)))

    def _key_shown(self, session: Session, status: str) -> Update:
        """The key field emptied (a key is never sent back), the state kept, and what became of it."""
        return {self.key: "", self.session: session, self.key_status: status}

    @ui_errors
    def usage(self, request: gr.Request) -> str:
        """The usage line: the tokens this user has used (also filled after each answer)."""
        totals = self._usage.totals(self._user_of(request))
        return msg("usage", language(request), prompt=totals.prompt_tokens, completion=totals.completion_tokens)


class TokensSection:
    """Settings > Access tokens: make one (shown once, in a read-only box), see one's own, revoke
    one. Every handler acts on the signed-in user's own tokens only (TokenService scopes by owner)."""

    EXPIRIES = ("7d", "30d", "90d", "365d")

    def __init__(self, tokens: TokenService, user_of: UserOf) -> None:
        self._tokens = tokens
        self._user_of = user_of

    def render(self) -> None:
        with gr.Accordion(I18N("tokens.title"), open=False, elem_id="tokens"):
            gr.Markdown(I18N("tokens.help"))
            with gr.Row():
                self.name = gr.Textbox(label=I18N("tokens.name"), max_length=100, scale=2)
                self.scopes = gr.CheckboxGroup(list(SCOPES), value=["ask"], label=I18N("tokens.scopes"), scale=2)
                self.expires = gr.Dropdown(list(self.EXPIRIES), value="90d", label=I18N("tokens.expires"), scale=1)
            self.create = gr.Button(I18N("tokens.create"), variant="primary")
            self.new_token = gr.Textbox(
                label=I18N("tokens.new"), interactive=False, buttons=["copy"], elem_id="new-token"
            )
            self.status = gr.Markdown()
            self.table = gr.Dataframe(label=I18N("tokens.table"), interactive=False, wrap=True)
            with gr.Row():
                self.revoke_id = gr.Textbox(label=I18N("tokens.revoke_id"), max_length=64, scale=3)
                self.revoke = gr.Button(I18N("tokens.revoke"), variant="stop", scale=1)

    def wire(self, load: Any) -> None:
        load(self.listing, None, self.table, **PRIVATE)
        self.create.click(
            self.make, [self.name, self.scopes, self.expires], [self.new_token, self.status, self.table], **PRIVATE
        )
        self.revoke.click(self.end, [self.revoke_id], [self.revoke_id, self.status, self.table], **PRIVATE)

    @ui_errors
    def listing(self, request: gr.Request) -> list[list[str]]:
        return self._rows(self._user_of(request), language(request))

    @ui_errors
    def make(self, name: str, scopes: list[str], expires: str, request: gr.Request) -> Update:
        owner, lang = self._user_of(request), language(request)
        if not scopes:
            raise refused(msg("tokens.no_scope", lang), lang)
        if expires not in self.EXPIRIES:
            raise refused(msg("tokens.bad_expiry", lang), lang)
        made = self._tokens.create(owner, scopes, expires, name=name or "", actor=owner)
        shown = msg("tokens.made", lang, prefix=made.info.prefix, expires=f"{made.info.expires_at:%Y-%m-%d}")
        return {self.new_token: made.token, self.status: shown, self.table: self._rows(owner, lang)}

    @ui_errors
    def end(self, id_or_prefix: str, request: gr.Request) -> Update:
        owner, lang = self._user_of(request), language(request)
        info = self._tokens.revoke((id_or_prefix or "").strip(), actor=owner, owner=owner)
        return {
            self.revoke_id: "",
            self.status: msg("tokens.revoked", lang, prefix=info.prefix),
            self.table: self._rows(owner, lang),
        }

    def _rows(self, owner: str, lang: str) -> Any:
        import pandas as pd

        headers = msg("tokens.headers", lang).split("|")
        rows = []
        for t in self._tokens.list(owner):
            state = "revoked" if t.revoked_at else "active" if t.active else "expired"
            used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "-"
            rows.append(
                [
                    t.id,
                    t.prefix,
                    t.name or "-",
                    " ".join(t.scopes),
                    msg(f"tokens.state.{state}", lang),
                    f"{t.created_at:%Y-%m-%d}",
                    f"{t.expires_at:%Y-%m-%d}",
                    used,
                ]
            )
        return pd.DataFrame(rows, columns=headers)


class DataSection:
    """Settings > Your data: download everything one owns as a zip (GET /export/my-data, built on the
    server for the signed-in user: app/web/export_route.py), and delete one's own account after the
    password, or the user name for an account without one or a browser single sign-on signed in
    (OwnAccount).
    What a deletion removes is counted here before it is asked for."""

    def __init__(self, own_account: OwnAccount | None, user_of: UserOf, leave_url: str) -> None:
        self._own = own_account
        self._user_of = user_of
        self._leave_url = leave_url  # where the browser goes once the account is gone (sign-out)

    def render(self) -> None:
        with gr.Accordion(I18N("data.title"), open=False, elem_id="my-data"):
            self.export_link = gr.HTML(elem_id="export-data-box")
            if self._own is None:
                return
            self.delete_help = gr.Markdown(elem_id="delete-account-help")
            with gr.Row():
                self.confirm = gr.Textbox(
                    label=I18N("data.password"),
                    type="password",
                    max_length=1024,
                    elem_id="delete-account-confirm",
                    scale=3,
                )
                self.delete = gr.Button(I18N("data.delete"), variant="stop", elem_id="delete-account", scale=1)
            self.deleted = gr.Textbox(visible=False, elem_id="delete-account-done")  # "1" once gone: sign out

    def wire(self, load: Any) -> None:
        if self._own is None:
            load(self.view_export, None, self.export_link, **PRIVATE)
            return
        load(self.view, None, [self.export_link, self.delete_help, self.confirm], **PRIVATE)
        # Once the account is gone the browser signs out (the session ended on the server already). A
        # queued no-op carries the script: a script-only event would run outside the queue.
        leave = f"(done) => {{ if (done === '1') window.location.href = {self._leave_url!r}; return [done]; }}"
        self.delete.click(self.delete_own, [self.confirm], [self.confirm, self.deleted], **PRIVATE).then(
            _after_delete, [self.deleted], None, js=leave, **PRIVATE
        )

    @ui_errors
    def view_export(self, request: gr.Request) -> str:
        self._user_of(request)
        return _export_link(language(request))

    @ui_errors
    def view(self, request: gr.Request) -> tuple[Any, ...]:
        """The download link, what a deletion would remove, and what confirms it (password or name)."""
        user, lang = self._user_of(request), language(request)
        assert self._own is not None
        plan = self._own.preview(user)
        mb = f"{plan.document_bytes / 1048576:.1f}"
        help_text = msg(
            "data.delete_help",
            lang,
            documents=plan.documents,
            mb=mb,
            conversations=plan.conversations,
            messages=plan.messages,
            feedback=plan.feedback,
            tokens=plan.tokens,
            memberships=plan.memberships,
        )
        if self._own.confirms_with_password(user, session_token(request)):
            confirm = gr.update(label=msg("data.password", lang), type="password", value="")
        else:
            confirm = gr.update(label=msg("data.type_name", lang), type="text", value="")
        return _export_link(lang), help_text, confirm

    @ui_errors
    def delete_own(self, confirmation: str, request: gr.Request) -> tuple[str, str]:
        user, lang = self._user_of(request), language(request)
        assert self._own is not None
        if not (confirmation or "").strip():
            raise refused(msg("data.need_confirmation", lang), lang)
        self._own.delete(user, confirmation, client=client_host(request), session=session_token(request))
        gr.Info(msg("data.deleted", lang))
        return "", "1"


def _after_delete(_done: str) -> None:
    """Nothing on the server: the event's script signs the browser out (see DataSection.wire)."""


# A link that looks like the page's secondary buttons (an inline style: the page's CSS is shared).
_BUTTON = (
    "display:inline-block;padding:8px 16px;border-radius:8px;border:1px solid var(--border-color-primary);"
    "background:var(--button-secondary-background-fill);color:var(--button-secondary-text-color);"
    "font-weight:600;text-decoration:none"
)


def _export_link(lang: str) -> str:
    """A plain link: the browser downloads the archive itself (no copy of it in Gradio's cache); the
    archive is an attachment, so the page stays, and a refusal opens a page that says why."""
    return (
        f"<p>{html.escape(msg('data.export_help', lang))}</p>"
        f'<a id="export-data" class="export-data" href="/export/my-data" style="{_BUTTON}">'
        f"{html.escape(msg('data.export', lang))}</a>"
    )
