"""The Admin tab's Groups sub-tab: the groups with their member counts, making and removing a
group (removal asks first, naming how many memberships go with it), a group's members with their
roles, adding a member or changing a role, taking a member out; the group's library limits
(documents, storage: only what was changed is saved). Every handler checks on the server that the
caller is an administrator (GroupsAdmin)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from app.admin.groups_admin import LIBRARY_LIMITS, GroupsAdmin, LibraryLimits
from app.auth.groups import ROLES
from app.web.ui.errors import client_host, refused, ui_errors
from app.web.ui.i18n import I18N, MESSAGES, language, msg
from app.web.ui.safe_markdown import literal
from app.web.ui.usage_tab import changed_limits

PRIVATE: dict[str, Any] = {"api_visibility": "private"}


class GroupsTab:
    def __init__(self, groups: GroupsAdmin, user_of: Callable[[gr.Request | None], str]) -> None:
        self._groups = groups
        self._user_of = user_of

    def render(self) -> None:
        """Call inside the sub-tab."""
        self.table = gr.Dataframe(value=[], interactive=False, elem_id="admin-groups")
        with gr.Row():
            self.group = gr.Textbox(label=I18N("groups.name"), elem_id="groups-name", scale=3)
            self.create = gr.Button(I18N("groups.add"), variant="primary", elem_id="groups-add", scale=1)
            self.show = gr.Button(I18N("groups.show"), elem_id="groups-show", scale=1)
            self.remove = gr.Button(I18N("groups.remove"), variant="stop", elem_id="groups-remove", scale=1)
        dialog: dict[str, Any] = {"elem_id": "confirm-remove-group", "elem_classes": ["confirm-dialog"]}
        with gr.Group(visible=False, **dialog) as self.confirm:
            self.confirm_text = gr.Markdown(elem_id="confirm-remove-group-text")
            with gr.Row():
                self.remove_yes = gr.Button(I18N("groups.remove"), variant="stop", elem_id="groups-remove-yes")
                self.remove_no = gr.Button(I18N("chat.cancel"), elem_id="groups-remove-no")
        self.planned = gr.State(None)  # the group the confirmation names
        headers = MESSAGES["en"]["groups.member_headers"].split("|")
        self.members = gr.Dataframe(value=[], headers=headers, interactive=False, elem_id="groups-members")
        with gr.Row():
            self.member = gr.Textbox(label=I18N("groups.member"), elem_id="groups-member", scale=3)
            self.role = gr.Dropdown(choices=list(ROLES), value="reader", label=I18N("groups.role"), scale=1)
            self.add_member = gr.Button(I18N("groups.add_member"), elem_id="groups-add-member", scale=1)
            self.remove_member = gr.Button(I18N("groups.remove_member"), elem_id="groups-remove-member", scale=1)
        self.result = gr.Markdown(elem_id="groups-result")
        self.limits = self._groups.has_library_limits
        if self.limits:
            self.lib_note = gr.Markdown(elem_id="groups-lib-note")
            with gr.Row():
                self.lib_documents = gr.Textbox(label=I18N("groups.lib_documents"), elem_id="groups-lib-documents")
                self.lib_storage = gr.Textbox(label=I18N("groups.lib_storage"), elem_id="groups-lib-storage")
                self.lib_save = gr.Button(I18N("groups.lib_save"), elem_id="groups-lib-save")
            self.lib_loaded = gr.State(None)  # what the form was filled with: only changes are saved

    def wire(self, opened: list[Any]) -> None:
        for trigger in opened:
            trigger(self.listing, None, [self.table], show_progress="hidden", **PRIVATE)
        views = [self.result, self.table, self.members]
        self.create.click(self.add, [self.group], views, **PRIVATE)
        self.show.click(self.show_members, [self.group], views, **PRIVATE)
        confirm = [self.confirm, self.confirm_text, self.planned]
        self.remove.click(self.ask_remove, [self.group], confirm, **PRIVATE)
        self.remove_yes.click(self.remove_confirmed, [self.planned], [*views, *confirm], **PRIVATE)
        self.remove_no.click(lambda: (gr.update(visible=False), "", None), None, confirm, **PRIVATE)
        member_form = [self.group, self.member, self.role]
        self.add_member.click(self.set_member, member_form, views, **PRIVATE)
        self.remove_member.click(self.take_out, [self.group, self.member], views, **PRIVATE)
        if self.limits:
            form = [self.lib_note, self.lib_documents, self.lib_storage, self.lib_loaded]
            self.show.click(self.library_limits, [self.group], form, **PRIVATE)
            self.lib_save.click(
                self.save_library_limits,
                [self.group, self.lib_documents, self.lib_storage, self.lib_loaded],
                [self.result, *form],
                **PRIVATE,
            )

    # ---- handlers -----------------------------------------------------------------------------

    @ui_errors
    def listing(self, request: gr.Request) -> dict[str, Any]:
        return self._table(self._user_of(request), language(request))

    @ui_errors
    def add(self, name: str, request: gr.Request) -> tuple[str, Any, Any]:
        admin, lang = self._user_of(request), language(request)
        made = self._groups.add(admin, self._needed(name, lang))
        return (
            msg("groups.done.add", lang, name=literal(made.name)),
            self._table(admin, lang),
            self._members(admin, made.name, lang),
        )

    @ui_errors
    def show_members(self, name: str, request: gr.Request) -> tuple[str, Any, Any]:
        admin, lang = self._user_of(request), language(request)
        name = self._needed(name, lang)
        return "", self._table(admin, lang), self._members(admin, name, lang)

    @ui_errors
    def ask_remove(self, name: str, request: gr.Request) -> tuple[Any, str, Any]:
        admin, lang = self._user_of(request), language(request)
        name = self._needed(name, lang)
        count = len(self._groups.members(admin, name))  # an unknown group is refused here
        text = msg("groups.confirm_remove", lang, name=literal(name), n=count)
        return gr.update(visible=True), text, name

    @ui_errors
    def remove_confirmed(self, planned: str | None, request: gr.Request) -> tuple[Any, ...]:
        admin, lang = self._user_of(request), language(request)
        if not planned:
            raise refused(msg("groups.need_name", lang), lang)
        members = self._groups.remove(admin, planned)
        done = msg("groups.done.remove", lang, name=literal(planned), n=members)
        return (
            done,
            self._table(admin, lang),
            {"headers": self._member_headers(lang), "data": []},
            gr.update(visible=False),
            "",
            None,
        )

    @ui_errors
    def set_member(self, name: str, user: str, role: str, request: gr.Request) -> tuple[str, Any, Any]:
        admin, lang = self._user_of(request), language(request)
        name, user = self._needed(name, lang), (user or "").strip()
        if not user:
            raise refused(msg("admin.need_name", lang), lang)
        m = self._groups.add_member(admin, name, user, role or "reader")
        done = msg("groups.done.member", lang, user=literal(m.username), role=m.role, name=literal(m.group))
        return done, self._table(admin, lang), self._members(admin, name, lang)

    @ui_errors
    def take_out(self, name: str, user: str, request: gr.Request) -> tuple[str, Any, Any]:
        admin, lang = self._user_of(request), language(request)
        name, user = self._needed(name, lang), (user or "").strip()
        if not user:
            raise refused(msg("admin.need_name", lang), lang)
        self._groups.remove_member(admin, name, user)
        done = msg("groups.done.removed_member", lang, user=literal(user), name=literal(name))
        return done, self._table(admin, lang), self._members(admin, name, lang)

    @ui_errors
    def library_limits(self, name: str, request: gr.Request) -> tuple[Any, ...]:
        admin, lang = self._user_of(request), language(request)
        return self._limits_form(self._groups.library_limits(admin, self._needed(name, lang)), lang)

    @ui_errors
    def save_library_limits(
        self, name: str, documents: str, storage_mb: str, loaded: dict[str, Any] | None, request: gr.Request
    ) -> tuple[Any, ...]:
        """Only what was changed in the form is saved: a field still showing what "Show members"
        put there (or left empty) keeps following what it followed."""
        admin, lang = self._user_of(request), language(request)
        name = self._needed(name, lang)
        before = loaded["values"] if loaded and loaded.get("group") == name else {}
        changes = changed_limits(dict(zip(LIBRARY_LIMITS, (documents, storage_mb), strict=True)), before, lang)
        now = self._groups.set_library_limits(admin, name, client=client_host(request), **changes)
        done = msg("groups.lib_saved" if changes else "groups.lib_unchanged", lang, name=literal(now.group))
        return done, *self._limits_form(now, lang)

    @staticmethod
    def _limits_form(now: LibraryLimits, lang: str) -> tuple[Any, ...]:
        values = {k: "unlimited" if now.limits[k] is None else f"{now.limits[k]:g}" for k in LIBRARY_LIMITS}
        note = msg(
            "groups.lib_holds",
            lang,
            name=literal(now.group),
            documents=f"{now.kept['documents']:g}",
            mb=f"{now.kept['storage_mb']:g}",
        )
        return note, values["documents"], values["storage_mb"], {"group": now.group, "values": values}

    # ---- tables -------------------------------------------------------------------------------

    @staticmethod
    def _needed(name: str | None, lang: str) -> str:
        name = (name or "").strip()
        if not name:
            raise refused(msg("groups.need_name", lang), lang)
        return name

    def _table(self, admin: str, lang: str) -> dict[str, Any]:
        rows = [[g.name, g.members, g.documents] for g in self._groups.list(admin)]
        return {"headers": msg("groups.headers", lang).split("|"), "data": rows}

    def _members(self, admin: str, name: str, lang: str) -> dict[str, Any]:
        rows = [[m.username, m.role, m.source] for m in self._groups.members(admin, name)]
        return {"headers": self._member_headers(lang), "data": rows}

    @staticmethod
    def _member_headers(lang: str) -> list[str]:
        return msg("groups.member_headers", lang).split("|")
