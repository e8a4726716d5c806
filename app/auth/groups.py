"""Groups of users and their members' roles (issue 31): made by admins (`groups ...`, later the
Admin tab), and kept in step with an identity provider's groups claim at each single sign-on.

Names are cleaned where they enter and compared like usernames (NFKC, case-folded: no `Sales`
beside `sales`). The provider's groups map onto groups of the same name that an admin made: a
sign-in never creates a group, so a provider cannot conjure teams nobody set up. A membership the
sync added is marked `sso` and is taken back when the provider stops listing the group; one an
admin added stays whatever the provider says.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import audit
from app.clean import clean_line, username_key
from app.errors import AuthError, NotFound
from app.storage.db import Database, Document, User
from app.storage.groups_db import Group, GroupMember

Role = Literal["reader", "editor", "owner"]
ROLES: tuple[Role, ...] = ("reader", "editor", "owner")
_NAME = re.compile(r"^[\w.@ -]{1,64}$")


class GroupExists(AuthError):
    """The name (in its compared form) belongs to a group already."""


class GroupInfo(BaseModel):
    name: str
    members: int
    documents: int = 0  # in the group's team library (app/auth/libraries.py)


class Membership(BaseModel):
    group: str
    username: str
    role: Role
    source: str


class GroupService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, name: str, actor: str = "system") -> GroupInfo:
        name = clean_line(name, 256)
        if not _NAME.match(name):
            raise AuthError("a group name is 1-64 letters, digits, spaces, '.', '_', '@' or '-'")
        try:
            with self._db.session() as s:
                if s.scalar(select(Group).where(Group.name_key == username_key(name))) is not None:
                    raise GroupExists(f"a group named {name!r} exists already")
                s.add(Group(name=name, name_key=username_key(name)))
        except IntegrityError as e:  # made by another process since the check
            raise GroupExists(f"a group named {name!r} exists already") from e
        audit("group.created", actor, target=name)
        return GroupInfo(name=name, members=0)

    def list(self) -> builtins.list[GroupInfo]:
        with self._db.session() as s:
            counts = (
                select(Group.id, Group.name, func.count(GroupMember.user_id))
                .outerjoin(GroupMember, GroupMember.group_id == Group.id)
                .group_by(Group.id, Group.name)
                .order_by(Group.name)
            )
            held = dict(
                s.execute(
                    select(Document.owner, func.count()).where(Document.owner.like("lib:%")).group_by(Document.owner)
                ).all()
            )
            return [
                GroupInfo(name=name, members=n, documents=held.get("lib:" + gid, 0))
                for gid, name, n in s.execute(counts)
            ]

    def remove(self, name: str, actor: str = "system") -> int:
        """Remove the group; returns how many memberships went with it. Refused while the group's
        library holds documents: they would be left with no one to read or delete them."""
        with self._db.session() as s:
            group = self._group(s, name)
            held = s.scalar(select(func.count()).select_from(Document).where(Document.owner == "lib:" + group.id)) or 0
            if held:
                raise AuthError(
                    f"the library of {group.name!r} holds {held} document{'s' if held > 1 else ''}: "
                    "delete them first (its editors, or `documents remove --library`)"
                )
            members = s.scalar(select(func.count()).where(GroupMember.group_id == group.id)) or 0
            s.execute(delete(GroupMember).where(GroupMember.group_id == group.id))
            s.delete(group)
            removed = group.name
        audit("group.removed", actor, target=removed, members=members)
        return members

    def members(self, name: str) -> builtins.list[Membership]:
        with self._db.session() as s:
            group = self._group(s, name)
            rows = s.execute(
                select(User.username, GroupMember.role, GroupMember.source)
                .join(GroupMember, GroupMember.user_id == User.id)
                .where(GroupMember.group_id == group.id)
                .order_by(User.username)
            )
            return [Membership(group=group.name, username=u, role=r, source=src) for u, r, src in rows]

    def add_member(self, name: str, username: str, role: str = "reader", actor: str = "system") -> Membership:
        """Add `username` with `role`, or change the role of a member (the membership becomes manual)."""
        if role not in ROLES:
            raise AuthError(f"a role is one of {', '.join(ROLES)}")
        with self._db.session() as s:
            group, user = self._group(s, name), self._user(s, username)
            row = s.get(GroupMember, (group.id, user.id))
            if row is None:
                s.add(GroupMember(group_id=group.id, user_id=user.id, role=role, source="manual"))
            else:
                row.role, row.source = role, "manual"
            found = Membership(group=group.name, username=user.username, role=role, source="manual")
        audit("group.member_added", actor, target=found.username, group=found.group, role=role)
        return found

    def remove_member(self, name: str, username: str, actor: str = "system") -> None:
        with self._db.session() as s:
            group, user = self._group(s, name), self._user(s, username)
            row = s.get(GroupMember, (group.id, user.id))
            if row is None:
                raise NotFound(f"{user.username} is not a member of {group.name}")
            s.delete(row)
            target, group_name = user.username, group.name
        audit("group.member_removed", actor, target=target, group=group_name)

    def groups_of(self, username: str) -> builtins.list[Membership]:
        with self._db.session() as s:
            rows = s.execute(
                select(Group.name, User.username, GroupMember.role, GroupMember.source)
                .join(GroupMember, GroupMember.group_id == Group.id)
                .join(User, User.id == GroupMember.user_id)
                .where(User.username == username)
                .order_by(Group.name)
            )
            return [Membership(group=g, username=u, role=r, source=src) for g, u, r, src in rows]

    def sync(
        self, username: str, provider_groups: Sequence[str], source: str = "sso"
    ) -> tuple[builtins.list[str], builtins.list[str]]:
        """Make `username`'s provider-made memberships match `provider_groups` (names of groups that
        exist here; others are ignored): join as reader where listed, leave where no longer listed.
        Memberships an admin made are left alone. Returns (joined, left) group names."""
        wanted = {username_key(clean_line(g, 256)) for g in provider_groups if clean_line(g, 256)}
        joined: list[str] = []
        left: list[str] = []
        with self._db.session() as s:
            user = self._user(s, username)
            groups = {g.name_key: g for g in s.scalars(select(Group))}
            current = {m.group_id: m for m in s.scalars(select(GroupMember).where(GroupMember.user_id == user.id))}
            for key in sorted(wanted & groups.keys()):
                group = groups[key]
                if group.id not in current:
                    s.add(GroupMember(group_id=group.id, user_id=user.id, role="reader", source=source))
                    joined.append(group.name)
            by_id = {g.id: g for g in groups.values()}
            for group_id, membership in current.items():
                known = by_id.get(group_id)
                if membership.source == source and known is not None and known.name_key not in wanted:
                    s.delete(membership)
                    left.append(known.name)
        for name in joined:
            audit("group.member_added", source, target=username, group=name, role="reader")
        for name in left:
            audit("group.member_removed", source, target=username, group=name)
        return joined, left

    @staticmethod
    def _group(s: Session, name: str) -> Group:
        group = s.scalar(select(Group).where(Group.name_key == username_key(clean_line(name, 256))))
        if group is None:
            raise NotFound(f"no such group: {clean_line(name, 64)!r}")
        return group

    @staticmethod
    def _user(s: Session, username: str) -> User:
        key = username_key(clean_line(username, 256))
        user = s.scalar(select(User).where(User.username_key == key))
        if user is None:
            raise NotFound(f"no such user: {clean_line(username, 64)!r}")
        return user
