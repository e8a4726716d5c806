"""The Admin tab: users, system state, recent errors and the audit log. Its own layout and wiring;
shown only to admins, and every handler checks again on the server (AdminConsole)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import gradio as gr

from app.admin.console import USER_HEADERS, AdminConsole
from app.answering.feedback import FeedbackService
from app.web.ui.errors import client_host, ui_errors
from app.web.ui.i18n import I18N, language, msg

AUDIT_HEADERS = ["time", "event", "actor", "client", "target", "outcome"]
ERROR_HEADERS = ["time", "ref", "where", "error", "message"]
FEEDBACK_HEADERS = ["time", "user", "rating", "question", "comment", "sources", "model"]


def _t(key: str) -> Any:
    return I18N(key)


class AdminTab:
    def __init__(
        self,
        console: AdminConsole,
        user_of: Callable[[gr.Request | None], str],
        feedback: FeedbackService | None = None,
    ) -> None:
        self._console = console
        self._user_of = user_of
        self._feedback = feedback
        self.tab: gr.Tab | None = None  # set by the layout (`with gr.Tab(...) as admin_tab.tab`)

    # ---- layout -------------------------------------------------------------------------------

    def render(self) -> None:
        with gr.Tab(_t("admin.users")):
            self.users = gr.Dataframe(headers=USER_HEADERS, value=[], interactive=False, elem_id="admin-users")
            with gr.Row():
                self.name = gr.Textbox(label=_t("admin.name"), elem_id="admin-name", scale=2)
                self.password = gr.Textbox(
                    label=_t("admin.password"), type="password", elem_id="admin-password", scale=2
                )
                self.make_admin = gr.Checkbox(label=_t("admin.is_admin"), scale=1)
            with gr.Row():
                self.add = gr.Button(_t("admin.add"), variant="primary", elem_id="admin-add")
                self.reset = gr.Button(_t("admin.reset_password"), elem_id="admin-reset")
                self.disable = gr.Button(_t("admin.disable"), elem_id="admin-disable")
                self.enable = gr.Button(_t("admin.enable"), elem_id="admin-enable")
                self.grant = gr.Button(_t("admin.grant"), elem_id="admin-grant")
                self.revoke = gr.Button(_t("admin.revoke"), elem_id="admin-revoke")
            with gr.Row():
                self.transfer_to = gr.Textbox(label=_t("admin.transfer_to"), elem_id="admin-transfer", scale=3)
                self.remove = gr.Button(_t("admin.remove"), variant="stop", elem_id="admin-remove", scale=1)
            self.result = gr.Markdown(elem_id="admin-result")
        with gr.Tab(_t("admin.system")):
            self.system = gr.JSON(elem_id="admin-system")
            self.errors = gr.Dataframe(
                headers=ERROR_HEADERS, value=[], interactive=False, label=_t("admin.errors"), elem_id="admin-errors"
            )
        with gr.Tab(_t("admin.audit")):
            with gr.Row():
                self.event = gr.Textbox(label=_t("admin.event"), placeholder="login", elem_id="admin-event")
                self.actor = gr.Textbox(label=_t("admin.actor"), elem_id="admin-actor")
                self.filter = gr.Button(_t("admin.filter"), elem_id="admin-filter")
            self.audit = gr.Dataframe(headers=AUDIT_HEADERS, value=[], interactive=False, elem_id="admin-audit")
        with gr.Tab(_t("admin.feedback"), elem_id="admin-feedback-tab"):
            # What people thought of their answers, newest first: which questions the documents fail.
            self.only_down = gr.Checkbox(label=_t("admin.feedback_down"), elem_id="admin-feedback-down")
            self.feedback = gr.Dataframe(
                headers=FEEDBACK_HEADERS, value=[], interactive=False, wrap=True, elem_id="admin-feedback"
            )
        self.refresh = gr.Button(_t("docs.refresh"), size="sm", elem_id="admin-refresh")

    # ---- wiring -------------------------------------------------------------------------------

    def wire(self, load: Any) -> None:
        private: dict[str, Any] = {"api_visibility": "private"}
        if self.tab is not None:
            load(self.visibility, None, self.tab, **private)
        views = [self.users, self.system, self.errors, self.audit]
        for trigger in [self.refresh.click, *([self.tab.select] if self.tab is not None else [])]:
            trigger(self.view, [self.event, self.actor], views, show_progress="hidden", **private)
        self.filter.click(self.view, [self.event, self.actor], views, **private)
        for trigger in [self.refresh.click, self.only_down.change, *([self.tab.select] if self.tab else [])]:
            trigger(self.feedback_view, [self.only_down], [self.feedback], show_progress="hidden", **private)
        form = [self.name, self.password, self.make_admin, self.transfer_to]
        outputs = [self.result, self.users, self.password]
        for button, action in (
            (self.add, "add"),
            (self.reset, "reset"),
            (self.disable, "disable"),
            (self.enable, "enable"),
            (self.grant, "grant"),
            (self.revoke, "revoke"),
            (self.remove, "remove"),
        ):
            button.click(self._action(action), form, outputs, **private)

    # ---- handlers -----------------------------------------------------------------------------

    def visibility(self, request: gr.Request) -> Any:
        try:
            return gr.update(visible=self._console.is_admin(self._user_of(request)))
        except Exception:
            return gr.update(visible=False)

    @ui_errors
    def view(self, event: str, actor: str, request: gr.Request) -> tuple[Any, Any, Any, Any]:
        admin = self._user_of(request)
        users = {"headers": USER_HEADERS, "data": self._console.users_table(admin)}
        errors = {
            "headers": ERROR_HEADERS,
            "data": [[e[h] for h in ERROR_HEADERS] for e in self._console.errors(admin)],
        }
        lines = self._console.audit_log(admin, event=(event or "").strip(), who=(actor or "").strip())
        audit = {"headers": AUDIT_HEADERS, "data": [[_cell(e.get(h)) for h in AUDIT_HEADERS] for e in lines]}
        return users, self._console.system(admin), errors, audit

    @ui_errors
    def feedback_view(self, only_down: bool, request: gr.Request) -> dict[str, Any]:
        """Newest first; thumbs down only when asked (the checks are the service's: admins only)."""
        admin, lang = self._user_of(request), language(request)
        rows = []
        if self._feedback is not None:
            for f in self._feedback.list(admin, rating=-1 if only_down else None):
                sources = ", ".join(f"{s.get('file')} p.{s.get('page')}" for s in f.sources)
                rating = msg("feedback.up" if f.rating > 0 else "feedback.down", lang)
                when = f"{f.created_at:%Y-%m-%d %H:%M}"
                rows.append([when, f.owner, rating, f.question, f.comment, sources, f.model])
        return {"headers": msg("feedback.headers", lang).split("|"), "data": rows}

    def _action(self, action: str) -> Callable[..., tuple[str, Any, str]]:
        @ui_errors
        def run(
            name: str, password: str, make_admin: bool, transfer_to: str, request: gr.Request
        ) -> tuple[str, Any, str]:
            admin, client, lang = self._user_of(request), client_host(request), language(request)
            name = (name or "").strip()
            if not name:
                raise gr.Error(msg("admin.need_name", lang))
            c = self._console
            if action == "add":
                c.add_user(admin, name, password or "", bool(make_admin), client)
            elif action == "reset":
                c.reset_password(admin, name, password or "", client)
            elif action in ("disable", "enable"):
                c.set_disabled(admin, name, action == "disable", client)
            elif action in ("grant", "revoke"):
                c.set_admin(admin, name, action == "grant", client)
            else:
                done = c.remove_user(admin, name, (transfer_to or "").strip() or None, client)
                return done, {"headers": USER_HEADERS, "data": c.users_table(admin)}, ""
            done_msg = msg(f"admin.done.{action}", lang, name=name)
            return done_msg, {"headers": USER_HEADERS, "data": c.users_table(admin)}, ""

        return run


def _cell(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)
