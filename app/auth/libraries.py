"""Team libraries (issue 31): each group has one library, documents its editors upload for every
member to ask. A library is a *tenant* of its own, `lib:<group id>`, beside each user's private
tenant (their username; usernames cannot hold ':'), so everything that is scoped by owner today —
the registry, the file store, the vector store's payload filter, the render cache, storage quotas —
scopes a library the same way, and a library's storage is charged to the library.

Who may read or change a library is read from the database on every request, never remembered in a
process: a member who leaves a group loses the library at their next request, on every instance.
A document or library someone may not read is reported as not found, never as forbidden, so its
existence does not leak.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import select

from app.auth.groups import ROLES, Role
from app.clean import clean_line, username_key
from app.errors import NotFound
from app.storage.db import Database, Document, User
from app.storage.groups_db import Group, GroupMember

PREFIX = "lib:"
_RANK = {role: i for i, role in enumerate(ROLES)}  # reader < editor < owner


def library_tenant(group_id: str) -> str:
    return PREFIX + group_id


def is_library(tenant: str) -> bool:
    return tenant.startswith(PREFIX)


@dataclass(frozen=True)
class Library:
    tenant: str  # lib:<group id>: the owner of its documents everywhere
    name: str  # the group's name, shown to members
    role: Role  # the asking user's role in the group

    @property
    def can_edit(self) -> bool:
        return _RANK[self.role] >= _RANK["editor"]


@dataclass(frozen=True)
class Scope:
    """What one question searches: the tenants it may read, optionally narrowed to documents."""

    user: str
    tenants: tuple[str, ...]
    doc_ids: tuple[str, ...] | None = None  # None: every ready document of the tenants
    labels: dict[str, str] = field(default_factory=dict)  # library tenant -> library name

    @classmethod
    def private(cls, user: str, doc_ids: Sequence[str] | None = None) -> Scope:
        return cls(user=user, tenants=(user,), doc_ids=tuple(doc_ids) if doc_ids is not None else None)


class LibraryAccess:
    """The libraries a user may read or change, and the scope of a question; checked on the server
    at every call."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def libraries(self, username: str) -> list[Library]:
        """The user's libraries (one per group they belong to), by name."""
        with self._db.session() as s:
            rows = s.execute(
                select(Group.id, Group.name, GroupMember.role)
                .join(GroupMember, GroupMember.group_id == Group.id)
                .join(User, User.id == GroupMember.user_id)
                .where(User.username == username, User.disabled.is_(False))
                .order_by(Group.name)
            )
            return [Library(tenant=library_tenant(gid), name=name, role=cast(Role, role)) for gid, name, role in rows]

    def library(self, username: str, name_or_tenant: str, need: Role = "reader") -> Library:
        """One of the user's libraries by group name or tenant, with at least role `need`; NotFound
        otherwise (also when the user is in the group with a lesser role: said as what it is)."""
        wanted = name_or_tenant.strip()
        key = username_key(wanted)
        for lib in self.libraries(username):
            if lib.tenant == wanted or username_key(lib.name) == key:
                if _RANK[lib.role] < _RANK[need]:
                    raise NotFound(f"you are a {lib.role} of the library {lib.name!r}; {need}s may do this")
                return lib
        raise NotFound(f"no such library: {clean_line(wanted, 64)!r}")

    def tenant_of_library(self, name: str) -> str:
        """The tenant of the group named `name`, for the operator (the CLI on the server)."""
        with self._db.session() as s:
            gid = s.scalar(select(Group.id).where(Group.name_key == username_key(clean_line(name, 256))))
        if gid is None:
            raise NotFound(f"no such library: {clean_line(name, 64)!r}")
        return library_tenant(gid)

    def name_of(self, tenant: str) -> str | None:
        """The library's (group's) name, for the operator's listings."""
        if not is_library(tenant):
            return None
        with self._db.session() as s:
            return s.scalar(select(Group.name).where(Group.id == tenant[len(PREFIX) :]))

    def readable(self, username: str) -> list[str]:
        """The tenants the user may search: their own, then their libraries'."""
        return [username, *(lib.tenant for lib in self.libraries(username))]

    def tenant_of(self, username: str, doc_id: str, need: Role = "reader") -> str:
        """The tenant of a document the user may read (or, with need='editor', change): their own
        username, or a library's. For anything else the user's own name, so that the tenant-scoped
        services below answer NotFound exactly as for a document that does not exist."""
        with self._db.session() as s:
            owner = s.scalar(select(Document.owner).where(Document.id == doc_id))
        if owner is None or owner == username or not is_library(owner):
            return username
        for lib in self.libraries(username):
            if lib.tenant == owner and _RANK[lib.role] >= _RANK[need]:
                return owner
        return username

    def scope(self, username: str, selected: Iterable[str] | None = None) -> Scope:
        """The scope of a question. `selected` mixes document ids and library tenants (the chat's
        picker, `ask --docs`, the API's document_ids); none: everything the user may read. A
        library selected means all of its documents, the user's own name all of their own; ids and
        libraries the user may not read are dropped (they select nothing, as if they did not
        exist)."""
        libraries = self.libraries(username)
        labels = {lib.tenant: lib.name for lib in libraries}
        tenants = (username, *labels)
        picked = [s for s in (selected or []) if s]
        if not picked:
            return Scope(user=username, tenants=tenants, labels=labels)
        whole = tuple(t for t in dict.fromkeys(picked) if t in labels or t == username)
        ids = [s for s in picked if not is_library(s) and s != username]
        if whole and not ids:
            return Scope(user=username, tenants=whole, labels=labels)
        if whole:  # some libraries whole, plus single documents of other tenants
            with self._db.session() as s:
                ids += list(s.scalars(select(Document.id).where(Document.owner.in_(whole))))
        return Scope(user=username, tenants=tenants, doc_ids=tuple(dict.fromkeys(ids)), labels=labels)
