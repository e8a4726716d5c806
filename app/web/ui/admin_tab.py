"""The Admin tab: users, groups (groups_tab.py), system state, recent errors and the audit log. Its
own layout and wiring; shown only to admins, and every handler checks again on the server
(AdminConsole). Removing a user asks first, naming what goes with them; each sub-tab shows fresh
data when it is opened."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import gradio as gr

from app.admin.accounts import RemovalPlan
from app.admin.console import USER_HEADERS, AdminConsole
from app.answering.feedback import FeedbackService
from app.web.ui.errors import client_host, refused, ui_errors
from app.web.ui.groups_tab import GroupsTab
from app.web.ui.i18n import I18N, language, msg, service_text
from app.web.ui.safe_markdown import literal
from app.web.ui.tokens_tab import TokensTab

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
        groups: GroupsTab | None = None,
        tokens: TokensTab | None = None,
    ) -> None:
        self._tokens = tokens
        self._groups = groups
        self._console = console
        self._user_of = user_of
        self._feedback = feedback
        self.tab: gr.Tab | None = None  # set by the layout (`with gr.Tab(...) as admin_tab.tab`)

    # ---- layout -------------------------------------------------------------------------------

    def render(self) -> None:
        with gr.Tab(_t("admin.users")) as users_tab:
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
            # "Remove user and data" asks here first (shown over the page where the admin is looking).
            dialog: dict[str, Any] = {"elem_id": "confirm-remove-user", "elem_classes": ["confirm-dialog"]}
            with gr.Group(visible=False, **dialog) as self.confirm:
                self.confirm_text = gr.Markdown(elem_id="confirm-remove-text")
                with gr.Row():
                    self.remove_yes = gr.Button(_t("admin.remove"), variant="stop", elem_id="admin-remove-yes")
                    self.remove_no = gr.Button(_t("chat.cancel"), elem_id="admin-remove-no")
            self.planned = gr.State(None)  # the removal the confirmation names: (user, transfer_to)
            self.result = gr.Markdown(elem_id="admin-result")
        self.groups_tab = None
        if self._groups is not None:
            with gr.Tab(_t("admin.groups"), elem_id="admin-groups-tab") as self.groups_tab:
                self._groups.render()
        if self._tokens is not None:
            with gr.Tab(_t("admin.tokens"), elem_id="admin-tokens-tab") as tokens_tab:
                self._tokens.render()
            self._tokens_opened = [tokens_tab.select]
        with gr.Tab(_t("admin.system")) as system_tab:
            self.system = gr.JSON(elem_id="admin-system")
            self.errors = gr.Dataframe(
                headers=ERROR_HEADERS, value=[], interactive=False, label=_t("admin.errors"), elem_id="admin-errors"
            )
        with gr.Tab(_t("admin.audit")) as audit_tab:
            with gr.Row():
                self.event = gr.Textbox(label=_t("admin.event"), placeholder="login", elem_id="admin-event")
                self.actor = gr.Textbox(label=_t("admin.actor"), elem_id="admin-actor")
                self.filter = gr.Button(_t("admin.filter"), elem_id="admin-filter")
            self.audit = gr.Dataframe(headers=AUDIT_HEADERS, value=[], interactive=False, elem_id="admin-audit")
        with gr.Tab(_t("admin.feedback"), elem_id="admin-feedback-tab") as feedback_tab:
            # What people thought of their answers, newest first: which questions the documents fail.
            self.only_down = gr.Checkbox(label=_t("admin.feedback_down"), elem_id="admin-feedback-down")
            self.feedback = gr.Dataframe(
                headers=FEEDBACK_HEADERS, value=[], interactive=False, wrap=True, elem_id="admin-feedback"
            )
        self.refresh = gr.Button(_t("docs.refresh"), size="sm", elem_id="admin-refresh")
        self.sub_tabs = [users_tab, system_tab, audit_tab]
        self.feedback_tab = feedback_tab

    # ---- wiring -------------------------------------------------------------------------------

    def wire(self, load: Any) -> None:
        private: dict[str, Any] = {"api_visibility": "private"}
        if self.tab is not None:
            load(self.visibility, None, self.tab, **private)
        views = [self.users, self.system, self.errors, self.audit]
        opened = [self.tab.select] if self.tab is not None else []
        for trigger in [self.refresh.click, *opened]:
            trigger(self.view, [self.event, self.actor], views, show_progress="hidden", **private)
        self.filter.click(self.view, [self.event, self.actor], views, **private)
        if self._groups is not None and self.groups_tab is not None:
            self._groups.wire([self.groups_tab.select, self.refresh.click])
        if self._tokens is not None:
            self._tokens.wire([*self._tokens_opened, self.refresh.click])
        for trigger in [self.refresh.click, self.only_down.change, *opened, self.feedback_tab.select]:
            trigger(self.feedback_view, [self.only_down], [self.feedback], show_progress="hidden", **private)
        # A sub-tab shows what happened since the Admin tab was opened (a new audit line, a new user).
        for sub_tab in self.sub_tabs:
            sub_tab.select(self.view, [self.event, self.actor], views, show_progress="hidden", **private)
        form = [self.name, self.password, self.make_admin, self.transfer_to]
        outputs = [self.result, self.users, self.password]
        for button, action in (
            (self.add, "add"),
            (self.reset, "reset"),
            (self.disable, "disable"),
            (self.enable, "enable"),
            (self.grant, "grant"),
            (self.revoke, "revoke"),
        ):
            button.click(self._action(action), form, outputs, **private)
        confirm = [self.confirm, self.confirm_text, self.planned]
        self.remove.click(self.ask_remove, [self.name, self.transfer_to], confirm, **private)
        self.remove_yes.click(self.remove_confirmed, [self.planned], [*outputs, *confirm], **private)
        self.remove_no.click(lambda: (gr.update(visible=False), "", None), None, confirm, **private)

    # ---- handlers -----------------------------------------------------------------------------

    def visibility(self, request: gr.Request) -> Any:
        try:
            return gr.update(visible=self._console.is_admin(self._user_of(request)))
        except Exception:
            return gr.update(visible=False)

    @ui_errors
    def view(self, event: str, actor: str, request: gr.Request) -> tuple[Any, Any, Any, Any]:
        admin, lang = self._user_of(request), language(request)
        errors = {
            "headers": msg("admin.error_headers", lang).split("|"),
            "data": [[e[h] for h in ERROR_HEADERS] for e in self._console.errors(admin)],
        }
        lines = self._console.audit_log(admin, event=(event or "").strip(), who=(actor or "").strip())
        audit = {
            "headers": msg("admin.audit_headers", lang).split("|"),
            "data": [[_cell(e.get(h)) for h in AUDIT_HEADERS] for e in lines],
        }
        return self._users_table(admin, lang), self._console.system(admin), errors, audit

    def _users_table(self, admin: str, lang: str) -> dict[str, Any]:
        yes = msg("admin.yes", lang)
        rows = [[yes if cell == "yes" else cell for cell in row] for row in self._console.users_table(admin)]
        return {"headers": msg("admin.user_headers", lang).split("|"), "data": rows}

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
            else:
                c.set_admin(admin, name, action == "grant", client)
            done_msg = msg(f"admin.done.{action}", lang, name=literal(name))
            return done_msg, self._users_table(admin, lang), ""

        return run

    @ui_errors
    def ask_remove(self, name: str, transfer_to: str, request: gr.Request) -> tuple[Any, str, Any]:
        """ "Remove user and data": nothing is removed yet; the confirmation says what would go."""
        admin, lang = self._user_of(request), language(request)
        name, target = (name or "").strip(), (transfer_to or "").strip() or None
        if not name:
            raise refused(msg("admin.need_name", lang), lang)
        plan = self._console.removal_plan(admin, name, target)
        return gr.update(visible=True), _plan_text(plan, lang), (plan.user, plan.transfer_to)

    @ui_errors
    def remove_confirmed(self, planned: tuple[str, str | None] | None, request: gr.Request) -> tuple[Any, ...]:
        """The confirmation's remove button: the user named there goes (with the data it named)."""
        admin, lang = self._user_of(request), language(request)
        if not planned:
            raise refused(msg("admin.need_name", lang), lang)
        name, target = planned
        done = self._console.remove_user(admin, name, target, client_host(request))
        hidden = gr.update(visible=False)
        return service_text(done, lang), self._users_table(admin, lang), "", hidden, "", None


def _plan_text(plan: RemovalPlan, lang: str) -> str:
    """The confirmation's question, naming the user and what goes with them."""
    values = {
        "name": literal(plan.user),
        "documents": _counted(plan.documents, "document", lang),
        "conversations": _counted(plan.conversations, "conversation", lang),
    }
    counts = msg(
        "admin.remove_counts",
        lang,
        documents=plan.documents,
        mb=f"{plan.document_bytes / 1048576:.1f}",
        conversations=plan.conversations,
        messages=plan.messages,
        feedback=plan.feedback,
        tokens=plan.tokens,
        memberships=plan.memberships,
    )
    if plan.transfer_to:
        return msg("admin.confirm_remove_transfer", lang, to=literal(plan.transfer_to), **values) + "\n\n" + counts
    return msg("admin.confirm_remove", lang, **values) + "\n\n" + counts


def _counted(n: int, noun: str, lang: str) -> str:
    return msg(f"count.{noun}" if n == 1 else f"count.{noun}s", lang, n=n)


def _cell(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)
