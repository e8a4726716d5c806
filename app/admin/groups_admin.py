"""Groups as the Admin tab manages them: every call checks that the caller is an administrator
(AdminConsole.require_admin), then acts through GroupService, which audits the change."""

from __future__ import annotations

import builtins

from app.admin.console import AdminConsole
from app.auth.groups import GroupInfo, GroupService, Membership


class GroupsAdmin:
    def __init__(self, console: AdminConsole, groups: GroupService) -> None:
        self._console = console
        self._groups = groups

    def list(self, admin: str) -> builtins.list[GroupInfo]:
        self._console.require_admin(admin)
        return self._groups.list()

    def add(self, admin: str, name: str) -> GroupInfo:
        self._console.require_admin(admin)
        return self._groups.add(name, actor=admin)

    def remove(self, admin: str, name: str) -> int:
        self._console.require_admin(admin)
        return self._groups.remove(name, actor=admin)

    def members(self, admin: str, name: str) -> builtins.list[Membership]:
        self._console.require_admin(admin)
        return self._groups.members(name)

    def add_member(self, admin: str, name: str, user: str, role: str) -> Membership:
        self._console.require_admin(admin)
        return self._groups.add_member(name, user, role, actor=admin)

    def remove_member(self, admin: str, name: str, user: str) -> None:
        self._console.require_admin(admin)
        self._groups.remove_member(name, user, actor=admin)
