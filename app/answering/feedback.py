"""Thumbs up or down on an answer, with an optional comment: the signal that tells an operator which
questions the documents fail. A user rates only answers in their own conversations; admins read all."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import select

from app.errors import AuthError, InvalidQuestion, NotFound
from app.storage.db import Conversation, Database, Feedback, Message, utcnow

COMMENT_CHARS = 2000
Rating = Literal[1, -1]


class FeedbackInfo(BaseModel):
    id: int
    owner: str
    conversation_id: str
    message_id: int
    rating: int
    comment: str
    question: str
    answer: str
    sources: list[dict[str, Any]]
    model: str
    created_at: datetime


FeedbackList = list[FeedbackInfo]


class FeedbackService:
    def __init__(self, db: Database, model: str | None, is_admin: Any) -> None:
        """`model`: the chat model answers come from (None: retrieval only); `is_admin(user)`: who may
        read everybody's feedback."""
        self._db = db
        self._model = model or "retrieval-only"
        self._is_admin = is_admin

    def rate(
        self, owner: str, conversation_id: str, index: int, rating: int | None, comment: str = ""
    ) -> FeedbackInfo | None:
        """Rate the answer at position `index` of `owner`'s conversation (0 = its first message);
        `rating` None takes a rating back. Rating again replaces the earlier rating (a comment given
        before is kept unless a new one is)."""
        comment = comment.strip()[:COMMENT_CHARS]
        with self._db.session() as s:
            conversation = s.get(Conversation, conversation_id)
            if conversation is None or conversation.owner != owner:
                raise NotFound("conversation not found")
            messages = list(
                s.scalars(select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id))
            )
            if not 0 < index < len(messages) or messages[index].role == "user":
                raise NotFound("no answer at that position")
            answer = messages[index]
            row = s.scalars(select(Feedback).where(Feedback.message_id == answer.id)).first()
            if rating is None:
                if row is not None:
                    s.delete(row)
                return None
            if rating not in (1, -1):
                raise InvalidQuestion("a rating is 1 (helpful) or -1 (not helpful)")
            if row is None:
                row = Feedback(
                    owner=owner,
                    conversation_id=conversation_id,
                    message_id=answer.id,
                    question=messages[index - 1].content,
                    answer=answer.content,
                    sources=[_source(c) for c in answer.citations or []],
                    model=self._model,
                    comment="",
                )
                s.add(row)
            row.rating = rating
            row.comment = comment or row.comment
            row.created_at = utcnow()
            s.flush()
            return _info(row)

    def comment(self, owner: str, conversation_id: str, index: int, comment: str) -> FeedbackInfo:
        """Add a comment to a rating already given (a comment alone rates the answer down)."""
        with self._db.session() as s:
            conversation = s.get(Conversation, conversation_id)
            if conversation is None or conversation.owner != owner:
                raise NotFound("conversation not found")
        existing = self.rate(owner, conversation_id, index, self._rating_of(owner, conversation_id, index), comment)
        assert existing is not None
        return existing

    def _rating_of(self, owner: str, conversation_id: str, index: int) -> int:
        with self._db.session() as s:
            ids = list(
                s.scalars(select(Message.id).where(Message.conversation_id == conversation_id).order_by(Message.id))
            )
            if not 0 <= index < len(ids):
                return -1
            row = s.scalars(select(Feedback).where(Feedback.message_id == ids[index], Feedback.owner == owner)).first()
            return row.rating if row is not None else -1

    def ratings(self, owner: str, conversation_id: str) -> dict[int, int]:
        """The ratings `owner` gave in one conversation, by the answer's position in it."""
        with self._db.session() as s:
            ids = s.scalars(select(Message.id).where(Message.conversation_id == conversation_id).order_by(Message.id))
            position = {message_id: i for i, message_id in enumerate(ids)}
            rows = s.scalars(
                select(Feedback).where(Feedback.conversation_id == conversation_id, Feedback.owner == owner)
            )
            return {position[r.message_id]: r.rating for r in rows if r.message_id in position}

    def list(self, actor: str, rating: int | None = None, limit: int = 200, owner: str | None = None) -> FeedbackList:
        """Newest first, for admins only; `rating` -1 lists the answers people found wanting."""
        if not self._is_admin(actor):
            raise AuthError("only administrators can read feedback")
        return self.entries(rating, limit, owner)

    def entries(self, rating: int | None = None, limit: int = 200, owner: str | None = None) -> FeedbackList:
        """The same list without the admin check: for the operator's shell (`python -m app feedback`)."""
        query = select(Feedback).order_by(Feedback.created_at.desc(), Feedback.id.desc()).limit(limit)
        if rating is not None:
            query = query.where(Feedback.rating == rating)
        if owner:
            query = query.where(Feedback.owner == owner)
        with self._db.session() as s:
            return [_info(r) for r in s.scalars(query)]


def _source(citation: dict[str, Any]) -> dict[str, Any]:
    """What an operator needs of a source: where it is, not the whole passage."""
    keys = ("number", "file", "page", "section", "doc_id")
    return {k: citation.get(k) for k in keys if citation.get(k) is not None}


def _info(row: Feedback) -> FeedbackInfo:
    return FeedbackInfo(
        id=row.id,
        owner=row.owner,
        conversation_id=row.conversation_id,
        message_id=row.message_id,
        rating=row.rating,
        comment=row.comment,
        question=row.question,
        answer=row.answer,
        sources=row.sources,
        model=row.model,
        created_at=row.created_at,
    )
