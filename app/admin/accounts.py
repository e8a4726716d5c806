"""Removing a user with everything they own, or handing their documents and conversations to
another user. A removed account's data never stays behind for a new account of the same name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from loguru import logger
from sqlalchemy import delete, func, select, update

from app.auth.users import UserService
from app.documents.registry import DocumentRegistry
from app.errors import AuthError
from app.storage.access_tokens import AccessToken
from app.storage.db import Base, Conversation, Database, Document, Feedback, Message, User
from app.storage.files import FileStore
from app.storage.groups_db import GroupMember

if TYPE_CHECKING:
    from app.documents.ingestion import IngestionService


@dataclass(frozen=True)
class Removal:
    """What a removal did. With a transfer, each of the user's documents was either moved (now a
    document of the recipient's), merged (the recipient has the same content already, under the
    name in `merged_into`: nothing new) or deleted (not ready, so not worth handing over)."""

    user: str
    documents_deleted: int = 0
    documents_transferred: int = 0  # moved: new documents of the recipient's
    conversations_transferred: int = 0
    documents_merged: int = 0
    merged_into: tuple[str, ...] = ()  # the recipient's documents that already had the merged content


@dataclass(frozen=True)
class RemovalPlan:
    """What `remove` would do, for a confirmation that names it: the user's documents and
    conversations, deleted or (with `transfer_to`) handed over, and what goes with the account in
    any case (messages and feedback go with their conversations)."""

    user: str
    documents: int
    conversations: int
    transfer_to: str | None = None
    document_bytes: int = 0
    messages: int = 0
    feedback: int = 0
    tokens: int = 0
    memberships: int = 0


class AccountService:
    def __init__(
        self,
        db: Database,
        users: UserService,
        registry: DocumentRegistry,
        files: FileStore,
        ingestion: Callable[[], IngestionService],
    ) -> None:
        self._db = db
        self._users = users
        self._registry = registry
        self._files = files
        self._ingestion = ingestion  # opened only when there are documents (it loads the vector store)

    def plan(self, username: str, transfer_to: str | None = None) -> RemovalPlan:
        """What removing `username` would delete or hand over; refused as `remove` would be."""
        self._check(username, transfer_to)
        with self._db.session() as s:
            conversations = select(Conversation.id).where(Conversation.owner == username)
            user_id = select(User.id).where(User.username == username).scalar_subquery()

            def count(query: Any) -> int:
                return int(s.scalar(select(func.count()).select_from(query.subquery())) or 0)

            size = s.scalar(select(func.coalesce(func.sum(Document.size_bytes), 0)).where(Document.owner == username))
            return RemovalPlan(
                username,
                self._registry.count(username),
                count(conversations),
                transfer_to,
                document_bytes=int(size or 0),
                messages=count(select(Message.id).where(Message.conversation_id.in_(conversations))),
                feedback=count(select(Feedback.id).where(Feedback.owner == username)),
                tokens=count(select(AccessToken.id).where(AccessToken.user_id == user_id)),
                memberships=count(select(GroupMember.group_id).where(GroupMember.user_id == user_id)),
            )

    def _check(self, username: str, transfer_to: str | None) -> None:
        self._users.get(username)
        if transfer_to is not None:
            self._users.get(transfer_to)
            if transfer_to == username:
                raise AuthError("cannot transfer a user's data to themselves")

    def remove(self, username: str, transfer_to: str | None = None) -> Removal:
        """Documents first (vectors, files, rows), then conversations, usage and the account itself.
        Safe to run again after a failure half-way: what is done stays done."""
        self._check(username, transfer_to)
        documents = self._registry.list(username)
        deleted = transferred = 0
        merged: list[str] = []
        if documents:
            ingestion = self._ingestion()
            theirs = {d.name: d.sha256 for d in self._registry.list(transfer_to)} if transfer_to else {}
            for doc in documents:
                if transfer_to is not None and doc.status == "ready":
                    name = _transferred_name(doc.name, doc.sha256, username, theirs)
                    theirs[name] = doc.sha256
                    with self._files.local_copy(username, doc.sha256) as local:
                        result = ingestion.ingest_file(transfer_to, local, name=name)
                    if result.outcome == "failed":
                        raise AuthError(f"could not transfer {doc.name}: {result.message}")
                    if result.outcome == "unchanged":  # the recipient has these bytes already
                        merged.append(result.duplicate_of or name)
                    else:
                        transferred += 1
                ingestion.delete(username, doc.id, missing_ok=True)
                deleted += 1
        conversations = 0
        with self._db.session() as s:
            if transfer_to is not None:
                moved = s.execute(update(Conversation).where(Conversation.owner == username).values(owner=transfer_to))
                conversations = int(getattr(moved, "rowcount", 0) or 0)
            for table in Base.metadata.sorted_tables:
                if "owner" in table.c:  # conversations (and their messages), usage, quotas, caches
                    s.execute(delete(table).where(table.c.owner == username))
        self._users.remove(username)
        logger.info(
            "user removed user={} documents_deleted={} documents_transferred={} documents_merged={} "
            "conversations_transferred={} to={}",
            username,
            deleted - transferred - len(merged),
            transferred,
            len(merged),
            conversations,
            transfer_to or "-",
        )
        return Removal(
            username, deleted - transferred - len(merged), transferred, conversations, len(merged), tuple(merged)
        )


def removal_text(done: Removal, transfer_to: str | None) -> str:
    """One line saying what a removal did (the CLI and the admin console say the same)."""
    text = f"{done.user} removed with {done.documents_deleted} documents"
    if transfer_to:
        text += f"; {done.documents_transferred} documents now belong to {transfer_to}"
        if done.documents_merged:
            names = ", ".join(sorted(set(done.merged_into)))
            text += (
                f"; {done.documents_merged} documents not copied: {transfer_to} already has the same content ({names})"
            )
    return text


def _transferred_name(name: str, sha256: str, from_user: str, theirs: dict[str, str]) -> str:
    """The name a transferred document gets: its own, unless the recipient has another document of
    that name (a new upload of a known name replaces it: the recipient's would be lost)."""
    if theirs.get(name, sha256) == sha256:
        return name
    stem, dot, ext = name.rpartition(".")
    stem, ext = (stem, f".{ext}") if dot else (name, "")
    candidate, n = f"{stem} (from {from_user}){ext}", 2
    while theirs.get(candidate, sha256) != sha256:
        candidate, n = f"{stem} (from {from_user}, {n}){ext}", n + 1
    return candidate
