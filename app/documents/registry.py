"""The document registry: which documents each user has, and which of them are searchable.

The registry, not Qdrant, decides visibility: only documents in status "ready" are ever searched,
so a document whose indexing was interrupted is never half-visible.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.storage.db import CachedAnswer, Database, Document, PageWords, utcnow

READY = "ready"
IN_FLIGHT = ("queued", "indexing")


class DocumentInfo(BaseModel):
    id: str
    owner: str
    name: str
    sha256: str
    size_bytes: int
    pages: int
    chunks: int
    status: str
    error: str | None
    replaces: str | None
    ocr_pages: int = 0  # pages whose text was recognised from their image
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Document) -> DocumentInfo:
        return cls.model_validate(row, from_attributes=True)


DocumentList = list[DocumentInfo]
IdList = list[str]
Versions = list[tuple[str, datetime]]
Words = list[tuple[str, float, float, float, float]]  # recognised words: text, x0, y0, x1, y1 (page fractions)
Owners = str | Sequence[str]  # one tenant, or several (a user's own documents and their libraries)


def _of(owners: Owners) -> Any:
    """The condition "owned by one of `owners`"."""
    if isinstance(owners, str):
        return Document.owner == owners
    return Document.owner.in_([*owners])


class DocumentPage(BaseModel):
    """The newest `limit` documents of an owner from `offset`, and how many the owner has."""

    documents: DocumentList
    total: int
    offset: int = 0


class DocumentRegistry:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, owner: str, name: str, sha256: str, size_bytes: int, replaces: str | None) -> DocumentInfo:
        with self._db.session() as s:
            row = Document(
                owner=owner,
                name=name,
                sha256=sha256,
                size_bytes=size_bytes,
                status="indexing",
                replaces=replaces,
            )
            s.add(row)
            s.flush()
            return DocumentInfo.of(row)

    def update(self, doc_id: str, **fields: object) -> None:
        with self._db.session() as s:
            row = s.get(Document, doc_id)
            if row is None:
                raise NotFound("document not found")
            for key, value in fields.items():
                setattr(row, key, value)
            if "status" in fields:  # what the user can search changed: cached answers are stale
                _forget_answers(s, row.owner)

    def get(self, owner: str, doc_id: str) -> DocumentInfo:
        """The owner's document; another user's id is reported exactly like a missing one."""
        with self._db.session() as s:
            row = s.get(Document, doc_id)
            if row is None or row.owner != owner:
                raise NotFound("document not found")
            return DocumentInfo.of(row)

    def list(self, owner: str) -> DocumentList:
        with self._db.session() as s:
            rows = s.scalars(select(Document).where(Document.owner == owner).order_by(Document.created_at.desc()))
            return [DocumentInfo.of(r) for r in rows]

    def page(self, owner: str, limit: int, offset: int = 0) -> DocumentPage:
        """A page of the owner's documents, newest first: a list of 10,000 documents costs the same
        as one of `limit` (tests/test_unbounded.py)."""
        query = select(Document).where(Document.owner == owner).order_by(Document.created_at.desc(), Document.id)
        with self._db.session() as s:
            rows = s.scalars(query.offset(offset).limit(limit))
            documents = [DocumentInfo.of(r) for r in rows]
            total = s.scalar(select(func.count()).select_from(Document).where(Document.owner == owner)) or 0
        return DocumentPage(documents=documents, total=total, offset=offset)

    def count(self, owner: Owners, statuses: Iterable[str] | None = None) -> int:
        query = select(func.count()).select_from(Document).where(_of(owner))
        if statuses is not None:
            query = query.where(Document.status.in_([*statuses]))
        with self._db.session() as s:
            return s.scalar(query) or 0

    def kept_totals(self, owner: str, excluding: Iterable[str] = ()) -> tuple[int, int]:
        """(documents, bytes) the owner keeps, failed ones and `excluding` left out: what the
        documents and storage_mb quotas count, in one query (listing 10,000 rows took 0.3-0.7 s)."""
        query = select(func.count(), func.coalesce(func.sum(Document.size_bytes), 0)).where(
            Document.owner == owner, Document.status != "failed"
        )
        gone = [*excluding]
        if gone:
            query = query.where(Document.id.not_in(gone))
        with self._db.session() as s:
            count, size = s.execute(query).one()
        return int(count), int(size)

    def totals_by_owner(self) -> dict[str, tuple[int, int, int]]:
        """owner -> (documents, pages, bytes) of every owner, in one query (the admin's users table)."""
        query = select(
            Document.owner,
            func.count(),
            func.coalesce(func.sum(Document.pages), 0),
            func.coalesce(func.sum(Document.size_bytes), 0),
        ).group_by(Document.owner)
        with self._db.session() as s:
            return {owner: (int(n), int(pages), int(size)) for owner, n, pages, size in s.execute(query)}

    def find(
        self,
        owner: str,
        *,
        sha256: str | None = None,
        name: str | None = None,
        statuses: Iterable[str] = (READY,),
    ) -> DocumentList:
        query = select(Document).where(Document.owner == owner, Document.status.in_([*statuses]))
        if sha256 is not None:
            query = query.where(Document.sha256 == sha256)
        if name is not None:
            query = query.where(Document.name == name)
        with self._db.session() as s:
            return [DocumentInfo.of(r) for r in s.scalars(query.order_by(Document.created_at))]

    def touch(self, doc_id: str) -> None:
        """Renew an in-flight document's lease (its `updated_at`): its ingestion is alive."""
        with self._db.session() as s:
            s.execute(
                update(Document)
                .where(Document.id == doc_id, Document.status.in_(IN_FLIGHT))
                .values(updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )

    def claim_stale(self, doc_id: str, lease_s: float) -> bool:
        """Take over an in-flight document whose ingestion stopped renewing its lease `lease_s` ago
        (its process died). One conditional UPDATE: of several processes, exactly one gets True."""
        now = utcnow()
        with self._db.session() as s:
            claimed = s.execute(
                update(Document)
                .where(
                    Document.id == doc_id,
                    Document.status.in_(IN_FLIGHT),
                    Document.updated_at < now - timedelta(seconds=lease_s),
                )
                .values(updated_at=now)
                .execution_options(synchronize_session=False)
            )
            return int(getattr(claimed, "rowcount", 0)) == 1

    def in_flight(self, owner: str | None = None) -> DocumentList:
        query = select(Document).where(Document.status.in_(IN_FLIGHT))
        if owner is not None:
            query = query.where(Document.owner == owner)
        with self._db.session() as s:
            return [DocumentInfo.of(r) for r in s.scalars(query.order_by(Document.created_at))]

    def ready_ids(self, owner: Owners, only: Iterable[str] | None = None) -> IdList:
        """Ids of the owner's searchable documents, optionally intersected with `only`."""
        query = select(Document.id).where(_of(owner), Document.status == READY)
        if only is not None:
            query = query.where(Document.id.in_([*only]))
        with self._db.session() as s:
            return list(s.scalars(query))

    def ready_versions(self, owner: Owners, only: Iterable[str] | None = None) -> Versions:
        """(id, updated_at) of the owner's ready documents, optionally only those in `only`: what
        an answer was drawn from, read as two columns (the answer cache's key, on every question)."""
        query = select(Document.id, Document.updated_at).where(_of(owner), Document.status == READY)
        if only is not None:
            query = query.where(Document.id.in_([*only]))
        with self._db.session() as s:
            return [(doc_id, updated) for doc_id, updated in s.execute(query)]

    def unsearchable_ids(self, owner: Owners) -> IdList:
        """Ids of the owner's documents that are not ready (queued, indexing, failed): what a search
        over all of the owner's documents leaves out, usually none or a few."""
        query = select(Document.id).where(_of(owner), Document.status != READY)
        with self._db.session() as s:
            return list(s.scalars(query))

    def all_ready(self) -> DocumentList:
        """Every ready document of every owner, oldest first (re-indexing)."""
        with self._db.session() as s:
            rows = s.scalars(select(Document).where(Document.status == READY).order_by(Document.created_at))
            return [DocumentInfo.of(r) for r in rows]

    def requeue_ready(self) -> int:
        """Mark every ready document for re-indexing (all owners); returns how many."""
        with self._db.session() as s:
            rows = list(s.scalars(select(Document).where(Document.status == READY)))
            for row in rows:
                row.status = "indexing"
            s.execute(delete(CachedAnswer))
            return len(rows)

    def sha_in_use(self, owner: str, sha256: str) -> bool:
        with self._db.session() as s:
            return s.scalar(select(Document.id).where(Document.owner == owner, Document.sha256 == sha256)) is not None

    def remove(self, doc_id: str) -> None:
        with self._db.session() as s:
            row = s.get(Document, doc_id)
            s.execute(delete(PageWords).where(PageWords.doc_id == doc_id))
            if row is not None:
                s.delete(row)
                _forget_answers(s, row.owner)

    # ---- recognised pages: their words and boxes, for the page view's highlight -----------------

    def save_words(self, doc_id: str, page: int, words: Sequence[Sequence[object]]) -> None:
        """Keep (or replace) the recognised words of one page of a document."""
        with self._db.session() as s:
            s.merge(PageWords(doc_id=doc_id, page=page, words=json.dumps(list(words), ensure_ascii=False)))

    def words(self, doc_id: str, page: int) -> Words | None:
        """The recognised words of a page, or None when its text came from the PDF's text layer."""
        with self._db.session() as s:
            row = s.get(PageWords, (doc_id, page))
            if row is None:
                return None
            return [(str(w[0]), float(w[1]), float(w[2]), float(w[3]), float(w[4])) for w in json.loads(row.words)]

    def forget_words(self, doc_id: str) -> None:
        """Drop a document's recognised words (it is read again, or failed)."""
        with self._db.session() as s:
            s.execute(delete(PageWords).where(PageWords.doc_id == doc_id))


def _forget_answers(s: Session, owner: str) -> None:
    """Drop the owner's cached answers in the same transaction as the document change."""
    s.execute(delete(CachedAnswer).where(CachedAnswer.owner == owner))
