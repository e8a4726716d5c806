"""The app database on a real PostgreSQL server (the same SQLAlchemy code as the SQLite default)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.answering.conversations import ConversationService
from app.auth.users import UserService
from app.documents.registry import DocumentRegistry
from app.domain import Usage
from app.storage.db import Database
from app.usage.accounting import UsageRecorder
from tests.fixtures.postgres import fresh_database


@pytest.fixture
def pg_db() -> Iterator[Database]:
    """A fresh database on the required PostgreSQL server (fails, not skips, without it)."""
    with fresh_database() as url:
        db = Database(url)
        db.create_all()
        try:
            yield db
        finally:
            db.close()


def test_services_work_on_postgresql(pg_db: Database) -> None:
    users = UserService(pg_db)
    users.add("alice", "alice-long-password", is_admin=True)
    assert users.authenticate("alice", "alice-long-password")
    registry = DocumentRegistry(pg_db)
    doc = registry.create("alice", "a.pdf", "0" * 64, 123, None)
    registry.update(doc.id, status="ready", pages=3, chunks=9)
    assert registry.ready_ids("alice") == [doc.id] and registry.ready_ids("bob") == []
    conversations = ConversationService(pg_db)
    chat = conversations.create("alice", "What is natbib?")
    conversations.append("alice", chat.id, "What is natbib?", "A package [1].", [{"file": "a.pdf", "page": 1}])
    assert [m.role for m in conversations.messages("alice", chat.id)] == ["user", "assistant"]
    UsageRecorder(pg_db).record("alice", "chat", "m", Usage(10, 5))
    assert UsageRecorder(pg_db).totals("alice").prompt_tokens == 10
    pg_db.ping()
