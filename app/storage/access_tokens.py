"""Personal access tokens: the rows behind `Authorization: Bearer pdfqa_...` (app/auth/tokens.py).

Only a keyed hash of a token is stored (HMAC-SHA256 under an installation key), with its first
characters as a visible prefix so a person can tell their tokens apart; the token itself is shown
once, when it is made. A row is never deleted by a revocation (revoked_at is set), so the list and
the audit log keep saying what existed; the user's removal deletes the rows (ON DELETE CASCADE).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.storage.db import Base, new_id, utcnow


class AccessToken(Base):
    __tablename__ = "access_tokens"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    prefix: Mapped[str] = mapped_column(String(16), index=True)  # shown in lists: "pdfqa_Ab12Cd"
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # HMAC-SHA256 hex
    scopes: Mapped[str] = mapped_column(String(64))  # space-separated: read ask write
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
