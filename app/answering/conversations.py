"""Conversations and their messages, per user. Every call is scoped by owner."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, func, select

from app.answering.service import Turn
from app.clean import clean_line
from app.errors import NotFound
from app.storage.db import Conversation, Database, Feedback, Message, utcnow

TITLE_CHARS = 60
MAX_TITLE = 200  # a title typed by the user (the column's size)


class ConversationInfo(BaseModel):
    id: str
    title: str
    updated_at: datetime


class ConversationPage(BaseModel):
    """The newest `limit` conversations of an owner from `offset`, and how many the owner has."""

    conversations: list[ConversationInfo]
    total: int
    offset: int = 0


class StoredMessage(BaseModel):
    role: str
    content: str
    citations: list[dict[str, Any]] | None = None
    claims: list[dict[str, Any]] | None = None  # an answer's claim checks (app.domain.Claim); None: not checked


ConversationList = list[ConversationInfo]
CitationList = list[dict[str, Any]]
MessageList = list[StoredMessage]
TurnList = list[Turn]


class ConversationService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def list(self, owner: str) -> ConversationList:
        """All of the owner's conversations, newest first (the CLI and admin tools; views use `page`)."""
        with self._db.session() as s:
            rows = s.scalars(
                select(Conversation).where(Conversation.owner == owner).order_by(Conversation.updated_at.desc())
            )
            return [_info(r) for r in rows]

    def page(self, owner: str, limit: int, offset: int = 0) -> ConversationPage:
        """A page of the owner's conversations, newest first: a user with 5,000 conversations gets
        `limit` of them per call, and the count."""
        query = (
            select(Conversation)
            .where(Conversation.owner == owner)
            .order_by(Conversation.updated_at.desc(), Conversation.id)
            .offset(max(0, offset))
            .limit(limit)
        )
        with self._db.session() as s:
            conversations = [_info(r) for r in s.scalars(query)]
            total = s.scalar(select(func.count()).select_from(Conversation).where(Conversation.owner == owner)) or 0
        return ConversationPage(conversations=conversations, total=total, offset=max(0, offset))

    def get(self, owner: str, conversation_id: str) -> ConversationInfo:
        with self._db.session() as s:
            return _info(self._get(s, owner, conversation_id))

    def create(self, owner: str, first_question: str) -> ConversationInfo:
        """A conversation titled by its first question, cleaned where the title enters
        (`clean_line`: one line, no control, bidi or zero-width characters)."""
        title = clean_line(first_question, TITLE_CHARS)
        with self._db.session() as s:
            row = Conversation(owner=owner, title=title or "…")
            s.add(row)
            s.flush()
            return _info(row)

    def rename(self, owner: str, conversation_id: str, title: str) -> None:
        title = clean_line(title, MAX_TITLE)
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
            return [StoredMessage(role=r.role, content=r.content, citations=r.citations, claims=r.claims) for r in rows]

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
        claims: CitationList | None = None,
    ) -> None:
        """Add a turn; `replace_last`: in the same transaction, first remove the last turn when it
        asked `question` (a retry: the old answer goes only once the new one exists). `claims`: the
        answer's claim checks, stored with it."""
        with self._db.session() as s:
            row = self._get(s, owner, conversation_id)
            if replace_last:
                self._drop_last(s, conversation_id, question)
            s.add(Message(conversation_id=row.id, role="user", content=question))
            s.add(Message(conversation_id=row.id, role="assistant", content=answer, citations=citations, claims=claims))
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


def _info(row: Conversation) -> ConversationInfo:
    return ConversationInfo(id=row.id, title=row.title, updated_at=row.updated_at)
