"""The Settings page: the user's own OpenAI API key (when llm.user_keys allows one; kept only in this
tab's server-side state, never stored) and the tokens this user has used. Also the `set_key` API."""

from __future__ import annotations

from typing import Any, Literal

import gradio as gr

from app.audit import audit
from app.usage.accounting import UsageRecorder
from app.web.ui.errors import client_host, refused, ui_errors
from app.web.ui.i18n import I18N, language, msg
from app.web.ui.session import Session, UserOf, bind_session

Update = dict[Any, Any]  # component -> its new value or gr.update(...)
PRIVATE: dict[str, Any] = {"api_visibility": "private"}


class SettingsPage:
    def __init__(
        self,
        usage: UsageRecorder,
        user_of: UserOf,
        session: gr.State,
        user_keys: Literal["off", "optional", "required"],
    ) -> None:
        self._usage = usage
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

    # ---- wiring -------------------------------------------------------------------------------

    def wire(self, load: Any) -> None:
        load(self.usage, None, self.usage_line, **PRIVATE)
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
