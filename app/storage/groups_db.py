"""Groups of users (teams): the rows behind `groups ...` and the sign-in's group sync
(app/auth/groups.py). A member has a role: reader (asks), editor (uploads, deletes), owner
(manages members). A membership the identity provider's groups claim made is marked `sso`, so
the next sign-in can take it back when the provider drops it; one an admin made stays.
Removing a group or a user removes their memberships (ON DELETE CASCADE).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.storage.db import Base, new_id, utcnow


class Group(Base):
    __tablename__ = "groups"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    name_key: Mapped[str] = mapped_column(String(128), unique=True)  # app/clean.py username_key(name)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class GroupMember(Base):
    __tablename__ = "group_members"
    group_id: Mapped[str] = mapped_column(String(32), ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))  # reader | editor | owner
    source: Mapped[str] = mapped_column(String(16), default="manual")  # manual | sso
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
