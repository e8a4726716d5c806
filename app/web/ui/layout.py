"""The Gradio Blocks: the header and one tab per page, each page building and wiring its own
components (chat_page, documents_page, settings_page, usage_tab, admin_tab). Where one page's event
changes another page's component, the hook is handed over here, by name."""

from __future__ import annotations

from typing import Any

import gradio as gr

from app.admin.tokens_admin import TokensAdmin
from app.config import Settings
from app.web.services import WebServices
from app.web.ui.admin_tab import AdminTab
from app.web.ui.chat_page import ChatPage, Hook
from app.web.ui.documents_page import DocumentsPage
from app.web.ui.errors import ui_errors
from app.web.ui.groups_tab import GroupsTab
from app.web.ui.i18n import I18N
from app.web.ui.libraries_panel import LibrariesPanel
from app.web.ui.session import UserOf, new_session, signed_in_user
from app.web.ui.settings_page import SettingsPage
from app.web.ui.tokens_tab import TokensTab
from app.web.ui.usage_tab import UsageTab
from app.web.uploads import UploadLedger


def build_blocks(
    services: WebServices, settings: Settings, uploads: UploadLedger | None = None, hf_oauth: bool = False
) -> gr.Blocks:
    user_of = signed_in_user(settings.auth)
    user_keys = settings.llm.user_keys
    # The whole width of the window (up to a bound in the CSS): the cited page beside the chat needs it.
    with gr.Blocks(title="PDF Q&A", delete_cache=(300, 900), fill_width=True) as demo:
        session = gr.State(new_session())  # this tab's state, on the server (chat and settings share it)
        header = Header(user_of)
        s = services
        tenant_of = s.libraries.tenant_of if s.libraries is not None else None
        chat = ChatPage(s.chat, s.conversations, s.feedback, s.pages, user_of, session, user_keys, tenant_of)
        max_files = settings.documents.max_upload_files
        documents = DocumentsPage(
            s.registry, s.ingestion, s.ingest_queue, user_of, max_files, uploads, libraries=s.libraries
        )
        libraries = LibrariesPanel(s.libraries, user_of, max_files, uploads) if s.libraries is not None else None
        leave_url = "/" if settings.auth.mode == "trusted_header" else "/logout"  # the proxy signs out there
        settings_page = SettingsPage(
            s.usage, user_of, session, user_keys, tokens=s.tokens, own_account=s.own_account, leave_url=leave_url
        )
        usage = UsageTab(s.usage_report, user_of)
        groups = GroupsTab(s.groups, user_of) if s.groups is not None else None
        tokens = TokensTab(TokensAdmin(s.admin, s.tokens), user_of) if s.tokens is not None else None
        admin = AdminTab(s.admin, user_of, s.feedback, groups, tokens)

        header.render(hf_oauth)
        with gr.Tabs(overflow_behavior="wrap"):  # every tab in sight on a phone, none in a menu
            with gr.Tab(I18N("tab.chat"), id="chat"):
                chat.render()
            with gr.Tab(I18N("tab.documents"), id="documents"):
                documents.render()
                if libraries is not None:
                    libraries.render()
            with gr.Tab(I18N("tab.settings"), id="settings"):
                settings_page.render()
            with gr.Tab(I18N("tab.usage"), id="usage", elem_id="usage-tab") as usage.tab:
                usage.render()
            # Shown to admins only (and every admin handler checks again).
            with gr.Tab(I18N("tab.admin"), id="admin", elem_id="admin-tab", visible=False) as admin.tab:
                admin.render()
        with gr.Row(visible=False):  # the API functions' own components
            chat.render_api()
            documents.render_api()
        documents.render_timer()

        header.wire(demo.load)
        # After an answer the Settings page's usage line is brought up to date; an upload or a
        # finished document refreshes the chat's document picker.
        chat.wire(demo.load, usage_line=Hook(settings_page.usage_line, settings_page.usage))
        documents.wire(demo.load, scope_picker=chat.scope)
        if libraries is not None:
            libraries.wire(demo.load)
        settings_page.wire(demo.load)
        usage.wire([demo.load] + ([usage.tab.select] if usage.tab is not None else []))
        admin.wire(demo.load)
    return demo


class Header:
    """The title, who is signed in, and the way out (or, with Hugging Face sign-in, in)."""

    def __init__(self, user_of: UserOf) -> None:
        self._user_of = user_of

    def render(self, hf_oauth: bool) -> None:
        with gr.Row(equal_height=True, elem_id="header"):
            gr.Markdown("## PDF Q&A")
            self.name = gr.Markdown(elem_id="whoami")
            if hf_oauth:
                gr.LoginButton()
            else:
                gr.Button(I18N("logout"), link="/logout", size="sm", scale=0, elem_id="logout")

    def wire(self, load: Any) -> None:
        load(self.whoami, None, self.name, api_visibility="private")

    @ui_errors
    def whoami(self, request: gr.Request) -> str:
        return f"**{self._user_of(request)}**"
