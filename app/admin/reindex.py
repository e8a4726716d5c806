"""Safe re-indexing: build a new collection beside the one in use, then switch the alias to it.

While the new collection is built, searches keep using the old one (through the alias); if
anything fails half-way the new collection is dropped and the old index is untouched. Documents
uploaded meanwhile are caught up before the switch. After the switch the registry's chunk counts
follow the new chunking, cached answers are dropped, and the old collection is deleted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from loguru import logger

from app.documents.ingestion import IngestionService
from app.documents.registry import DocumentRegistry
from app.errors import IngestError, NotFound
from app.storage.db import CachedAnswer, Database
from app.storage.files import FileStore
from app.storage.index_state import IndexStateStore, short_hash
from app.storage.vector_factory import open_store
from app.storage.vector_store import StoreClient, VectorStore


@dataclass(frozen=True)
class ReindexResult:
    collection: str
    documents: int
    chunks: int
    failed: list[tuple[str, str]]  # (file name, reason): left out of the new index


class ReindexService:
    def __init__(
        self,
        db: Database,
        client: StoreClient,
        alias: str,
        is_server: bool,
        registry: DocumentRegistry,
        files: FileStore,
        make_ingestion: Callable[[VectorStore], IngestionService],
        dim: int,
        fingerprint: dict[str, Any],
    ) -> None:
        self._db = db
        self._client = client
        self._alias = alias
        self._is_server = is_server
        self._registry = registry
        self._files = files
        self._make_ingestion = make_ingestion
        self._dim = dim
        self._fp = fingerprint
        self._states = IndexStateStore(db)

    def run(self, progress: Callable[[str], None] = lambda _m: None) -> ReindexResult:
        state = self._states.get(self._alias)
        old = state[0] if state else (self._alias if self._client.collection_exists(self._alias) else None)
        new = f"{self._alias}-{short_hash(self._fp)}-{int(time.time())}"
        self._client.create_collection(new, self._dim)
        store = open_store(self._client, new, self._dim, self._is_server)
        ingestion = self._make_ingestion(store)
        counts: dict[str, int] = {}
        failed: dict[str, tuple[str, str]] = {}  # doc id -> (file name, reason)
        try:
            # Twice: the second pass catches documents that became ready during the first.
            for _ in range(2):
                for doc in self._registry.all_ready():
                    if doc.id in counts or doc.id in failed:
                        continue
                    progress(f"{doc.owner}/{doc.name}")
                    try:
                        with self._files.local_copy(doc.owner, doc.sha256) as local:
                            counts[doc.id] = ingestion.build_vectors(doc, local)
                    except (IngestError, NotFound) as e:  # this one file (damaged, missing): not the others
                        store.delete_document(doc.owner, doc.id)
                        failed[doc.id] = (doc.name, str(e) or type(e).__name__)
                        logger.warning("reindex failed for one document doc={} error={}", doc.id, type(e).__name__)
                    # Anything else (the embedding service, the store, the database) would fail the
                    # next documents too: the whole re-index stops and the old index stays in use.
            if failed and not counts:
                raise RuntimeError("no document could be re-indexed")
        except BaseException:
            self._client.delete_collection(new)  # the old index is untouched
            raise
        self._switch(old, new)
        for doc_id, chunks in counts.items():
            self._registry.update(doc_id, chunks=chunks)
        for doc_id, (_name, reason) in failed.items():  # not in the new index: say so, do not hide it
            self._registry.update(doc_id, status="failed", error=f"could not be re-indexed: {reason}")
        with self._db.session() as s:
            s.query(CachedAnswer).delete()
        logger.info("reindex done collection={} documents={} failed={}", new, len(counts), len(failed))
        return ReindexResult(new, len(counts), sum(counts.values()), list(failed.values()))

    def _switch(self, old: str | None, new: str) -> None:
        if old == self._alias:
            # Made by an earlier version under the alias's own name: it has to go before the alias
            # can take its name (a moment without an index; stop the app for this one migration).
            self._client.delete_collection(old)
            old = None
        self._client.point_alias(self._alias, new)
        self._states.set(self._alias, new, self._fp)
        if old is not None and old != new and self._client.collection_exists(old):
            self._client.delete_collection(old)
