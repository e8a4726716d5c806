"""Conversations and their messages, per user. Every call is scoped by owner."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, select

from app.answering.service import Turn
from app.errors import NotFound
from app.storage.db import Conversation, Database, Feedback, Message, utcnow

TITLE_CHARS = 60


class ConversationInfo(BaseModel):
    id: str
    title: str
    updated_at: datetime


class StoredMessage(BaseModel):
    role: str
    content: str
    citations: list[dict[str, Any]] | None = None


ConversationList = list[ConversationInfo]
CitationList = list[dict[str, Any]]
MessageList = list[StoredMessage]
TurnList = list[Turn]


class ConversationService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def list(self, owner: str) -> ConversationList:
        with self._db.session() as s:
            rows = s.scalars(
                select(Conversation).where(Conversation.owner == owner).order_by(Conversation.updated_at.desc())
            )
            return [ConversationInfo(id=r.id, title=r.title, updated_at=r.updated_at) for r in rows]

    def create(self, owner: str, first_question: str) -> ConversationInfo:
        title = " ".join(first_question.split())
        title = title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 1] + "…"
        with self._db.session() as s:
            row = Conversation(owner=owner, title=title or "…")
            s.add(row)
            s.flush()
            return ConversationInfo(id=row.id, title=row.title, updated_at=row.updated_at)

    def rename(self, owner: str, conversation_id: str, title: str) -> None:
        title = " ".join(title.split())[:200]
        if not title:
            raise NotFound("a title cannot be empty")
        with self._db.session() as s:
            self._get(s, owner, conversation_id).title = title

    def delete(self, owner: str, conversation_id: str) -> None:
        with self._db.session() as s:
            row = self._get(s, owner, conversation_id)
            # In this order (feedback on its answers, messages, the conversation) whatever the database's
            # cascades: the ORM knows no relationships to order the deletes by.
            s.execute(delete(Feedback).where(Feedback.conversation_id == row.id))
            s.execute(delete(Message).where(Message.conversation_id == row.id))
            s.delete(row)

    def messages(self, owner: str, conversation_id: str) -> MessageList:
        with self._db.session() as s:
            self._get(s, owner, conversation_id)
            rows = s.scalars(select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id))
            return [StoredMessage(role=r.role, content=r.content, citations=r.citations) for r in rows]

    def history(self, owner: str, conversation_id: str) -> TurnList:
        return [
            Turn(role="user" if m.role == "user" else "assistant", content=m.content)
            for m in self.messages(owner, conversation_id)
        ]

    def append(
        self,
        owner: str,
        conversation_id: str,
        question: str,
        answer: str,
        citations: CitationList,
        replace_last: bool = False,
    ) -> None:
        """Add a turn; `replace_last`: in the same transaction, first remove the last turn when it
        asked `question` (a retry: the old answer goes only once the new one exists)."""
        with self._db.session() as s:
            row = self._get(s, owner, conversation_id)
            if replace_last:
                self._drop_last(s, conversation_id, question)
            s.add(Message(conversation_id=row.id, role="user", content=question))
            s.add(Message(conversation_id=row.id, role="assistant", content=answer, citations=citations))
            row.updated_at = utcnow()

    def drop_last_turn(self, owner: str, conversation_id: str, question: str) -> bool:
        """Remove the last turn when it asked `question` (to ask it again); False when it did not."""
        with self._db.session() as s:
            self._get(s, owner, conversation_id)
            return self._drop_last(s, conversation_id, question)

    @staticmethod
    def _drop_last(s: Any, conversation_id: str, question: str) -> bool:
        newest = select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id.desc())
        rows = list(s.scalars(newest.limit(2)))
        if len(rows) < 2 or rows[1].role != "user" or rows[1].content != question:
            return False
        for row in rows:
            s.delete(row)
        s.flush()  # gone before the new turn is added
        return True

    @staticmethod
    def _get(s: Any, owner: str, conversation_id: str) -> Conversation:
        row = s.get(Conversation, conversation_id)
        if row is None or row.owner != owner:
            raise NotFound("conversation not found")
        return row
