"""Groups as the Admin tab manages them: every call checks that the caller is an administrator
(AdminConsole.require_admin), then acts through GroupService, which audits the change. A group's
team library has limits of its own (documents and storage are charged to the library), set here as
`quotas set GROUP --library` sets them on the command line."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.admin.console import AdminConsole
from app.audit import audit
from app.auth.groups import GroupInfo, GroupService, Membership
from app.usage.quotas import shown_limit

if TYPE_CHECKING:
    from app.auth.libraries import LibraryAccess
    from app.usage.report import UsageReport

LIBRARY_LIMITS = ("documents", "storage_mb")  # what a library is charged for (questions go to the asker)


@dataclass(frozen=True)
class LibraryLimits:
    group: str
    limits: dict[str, float | None]  # None: unlimited
    overridden: frozenset[str]  # the keys set for this library (the others follow the configuration)
    kept: dict[str, float]  # what the library holds now


class GroupsAdmin:
    def __init__(
        self,
        console: AdminConsole,
        groups: GroupService,
        libraries: LibraryAccess | None = None,
        report: UsageReport | None = None,
    ) -> None:
        self._console = console
        self._groups = groups
        self._libraries = libraries
        self._report = report

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

    @property
    def has_library_limits(self) -> bool:
        return self._libraries is not None and self._report is not None

    def library_limits(self, admin: str, name: str) -> LibraryLimits:
        """The limits of the group's library, and what it holds (NotFound for no such group)."""
        self._console.require_admin(admin)
        assert self._libraries is not None and self._report is not None
        tenant = self._libraries.tenant_of_library(name)
        limits = self._report.limits(tenant)
        overrides = self._report.overrides(tenant)
        return LibraryLimits(
            group=self._libraries.name_of(tenant) or name,
            limits={k: limits[k] for k in LIBRARY_LIMITS},
            overridden=frozenset(k for k in LIBRARY_LIMITS if k in overrides),
            kept=self._report.kept(tenant),
        )

    def set_library_limits(self, admin: str, name: str, client: str | None = None, **changes: Any) -> LibraryLimits:
        """Change the library's documents and storage limits (a value None: unlimited; UNSET: back to
        the configuration); audited as `quota.changed`, as `quotas set --library` is."""
        self._console.require_admin(admin)
        assert self._libraries is not None and self._report is not None
        tenant = self._libraries.tenant_of_library(name)
        kept = {k: v for k, v in changes.items() if k in LIBRARY_LIMITS}
        if kept:
            self._report.set_limits(admin, tenant, **kept)
            shown = ", ".join(f"{k}={shown_limit(v)}" for k, v in kept.items())
            audit("quota.changed", admin, target=tenant, library=name, limits=shown, client=client)
        return self.library_limits(admin, name)
