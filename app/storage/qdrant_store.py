"""The Qdrant-server store (and qdrant-client's local mode) through llama-index's QdrantVectorStore."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from llama_index.core.schema import BaseNode, TextNode
from llama_index.core.vector_stores.types import VectorStoreQuery, VectorStoreQueryMode
from llama_index.vector_stores.qdrant import QdrantVectorStore
from loguru import logger
from qdrant_client import QdrantClient
from qdrant_client import models as qm

from app import metrics
from app.errors import ConfigError, ServiceUnavailable, StoreLockedError
from app.models import sparse
from app.storage.vector_store import (
    DENSE,
    DOC_KEY,
    LOCKED_MESSAGE,
    SPARSE,
    TENANT_KEY,
    ScoredNode,
    StoreClient,
    VectorStore,
    chunk_texts,
    dense_vectors,
    exported_point,
)

_LOCKS: weakref.WeakKeyDictionary[QdrantClient, threading.RLock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def _client_lock(client: QdrantClient) -> threading.RLock:
    with _LOCKS_GUARD:
        lock = _LOCKS.get(client)
        if lock is None:
            lock = _LOCKS[client] = threading.RLock()
        return lock


class QdrantConnection(StoreClient):
    """qdrant-client, talking to a Qdrant server or holding a local-mode folder, behind the same
    collection and alias methods as the Edge client. Payload indexes are made by `QdrantStore`,
    which knows whether the client is a server."""

    def __init__(self, qdrant: QdrantClient) -> None:
        self.qdrant = qdrant

    @classmethod
    def server(cls, url: str, api_key: str | None, timeout_s: float) -> QdrantConnection:
        return cls(QdrantClient(url=url, api_key=api_key, timeout=int(timeout_s)))

    @classmethod
    def local(cls, path: Path) -> QdrantConnection:
        """The local-mode folder at `path`, locked to this process."""
        try:
            return cls(QdrantClient(path=str(path)))
        except RuntimeError as e:
            if "already accessed" in str(e):
                raise StoreLockedError(LOCKED_MESSAGE.format(path=path)) from e
            raise

    def collection_names(self) -> list[str]:
        return sorted(c.name for c in self.qdrant.get_collections().collections)

    def collection_exists(self, name: str) -> bool:
        return self.qdrant.collection_exists(name)

    def create_collection(self, name: str, dim: int) -> None:
        self.qdrant.create_collection(
            name,
            vectors_config={DENSE: qm.VectorParams(size=dim, distance=qm.Distance.COSINE)},
            sparse_vectors_config={SPARSE: qm.SparseVectorParams(modifier=qm.Modifier.IDF)},
        )
        logger.info("qdrant collection created name={} dim={}", name, dim)

    def delete_collection(self, name: str) -> None:
        self.qdrant.delete_collection(name)

    def point_alias(self, alias: str, physical: str) -> None:
        ops: list[Any] = []
        if alias in {a.alias_name for a in self.qdrant.get_aliases().aliases}:
            ops.append(qm.DeleteAliasOperation(delete_alias=qm.DeleteAlias(alias_name=alias)))
        ops.append(qm.CreateAliasOperation(create_alias=qm.CreateAlias(collection_name=physical, alias_name=alias)))
        self.qdrant.update_collection_aliases(change_aliases_operations=ops)

    def load_alias(self, alias: str, physical: str) -> None:
        """Nothing to do: a server (and a local-mode folder) keeps its own aliases."""

    def close(self) -> None:
        self.qdrant.close()


def _payload_indexes(client: QdrantClient, name: str) -> None:
    client.create_payload_index(
        name, TENANT_KEY, field_schema=qm.KeywordIndexParams(type=qm.KeywordIndexType.KEYWORD, is_tenant=True)
    )
    client.create_payload_index(name, DOC_KEY, field_schema=qm.PayloadSchemaType.KEYWORD)


class QdrantStore(VectorStore):
    """Tenant-scoped writes and searches over one collection of a Qdrant server (or local mode)."""

    client: QdrantConnection

    def __init__(self, client: QdrantConnection, collection: str, dim: int, is_server: bool) -> None:
        self.client = client
        self._qdrant = client.qdrant
        self.collection = collection
        # Local mode keeps points in plain Python structures: one operation at a time, for every
        # store over the same client (re-indexing writes a new collection while searches run).
        self._lock: AbstractContextManager[object] = nullcontext() if is_server else _client_lock(self._qdrant)
        self._ensure_collection(dim, is_server)
        self.store = QdrantVectorStore(
            collection_name=collection,
            client=self._qdrant,
            enable_hybrid=True,
            sparse_doc_fn=sparse.encode_documents,
            sparse_query_fn=sparse.encode_queries,
            batch_size=128,
        )

    def _ensure_collection(self, dim: int, is_server: bool) -> None:
        if not self.client.collection_exists(self.collection):
            self.client.create_collection(self.collection, dim)
        elif (existing := self.dim) != dim:
            raise ConfigError(
                f"the Qdrant collection '{self.collection}' holds {existing}-dimensional vectors but the "
                f"embedding model makes {dim}-dimensional ones: the model was changed. Run "
                "`python -m app reindex` to re-embed every document, or set qdrant.collection to a new name."
            )
        if is_server:  # payload indexes are a no-op in local mode
            _payload_indexes(self._qdrant, self.collection)

    def add(self, nodes: Sequence[BaseNode]) -> None:
        try:
            with self._lock, metrics.QDRANT_SECONDS.labels("upsert").time():
                self.store.add(list(nodes))
        except Exception as e:
            raise ServiceUnavailable(f"the vector store failed to save ({type(e).__name__})") from e

    def export_points(self, batch: int = 256) -> Iterator[dict[str, Any]]:
        offset: Any = None
        while True:
            with self._lock:
                records, offset = self._qdrant.scroll(
                    self.collection, limit=batch, offset=offset, with_payload=True, with_vectors=True
                )
            for r in records:
                yield exported_point(r.id, r.vector, r.payload, qm.SparseVector)
            if offset is None:
                return

    def import_points(self, points: Sequence[dict[str, Any]]) -> None:
        structs = []
        for p in points:
            vector: dict[str, Any] = {}
            if p.get("dense") is not None:
                vector[DENSE] = p["dense"]
            if p.get("sparse") is not None:
                vector[SPARSE] = qm.SparseVector(**p["sparse"])
            structs.append(qm.PointStruct(id=p["id"], vector=vector, payload=p["payload"]))
        try:
            with self._lock:
                self._qdrant.upsert(self.collection, points=structs)
        except Exception as e:
            raise ServiceUnavailable(f"the vector store failed to save ({type(e).__name__})") from e

    def clear(self) -> None:
        with self._lock:
            self._qdrant.delete(self.collection, points_selector=qm.FilterSelector(filter=qm.Filter()))

    @property
    def dim(self) -> int | None:
        vectors = self._qdrant.get_collection(self.collection).config.params.vectors
        return vectors[DENSE].size if isinstance(vectors, dict) else None

    def delete_document(self, tenant: str, doc_id: str) -> None:
        try:
            with self._lock:
                self._qdrant.delete(
                    self.collection, points_selector=qm.FilterSelector(filter=_filter(tenant, [doc_id]))
                )
        except Exception as e:
            raise ServiceUnavailable(f"the vector store failed to delete ({type(e).__name__})") from e

    def count(self, tenant: str, doc_ids: Sequence[str] | None = None) -> int:
        with self._lock:
            return self._qdrant.count(self.collection, count_filter=_filter(tenant, doc_ids), exact=True).count

    def search(
        self,
        tenant: str | Sequence[str],
        doc_ids: Sequence[str] | None,
        query_text: str,
        query_embedding: list[float] | None,
        mode: VectorStoreQueryMode,
        limit: int,
        exclude: Sequence[str] = (),
    ) -> list[ScoredNode]:
        if doc_ids is not None and not doc_ids:
            return []
        query = VectorStoreQuery(
            query_embedding=query_embedding,
            query_str=query_text,
            similarity_top_k=limit,
            sparse_top_k=limit,
            mode=mode,
        )
        try:
            with self._lock, metrics.QDRANT_SECONDS.labels("search").time():
                result = self.store.query(query, qdrant_filters=_filter(tenant, doc_ids, exclude))
        except Exception as e:
            raise ServiceUnavailable(f"the vector store did not answer ({type(e).__name__})") from e
        nodes = result.nodes or []
        scores = result.similarities or [0.0] * len(nodes)
        return [
            ScoredNode(node=n, score=float(s)) for n, s in zip(nodes, scores, strict=False) if isinstance(n, TextNode)
        ]

    def vectors(self, point_ids: Sequence[str]) -> dict[str, list[float]]:
        return dense_vectors(self._retrieve(point_ids, False, [DENSE])) if point_ids else {}

    def texts(self, tenant: str, point_ids: Sequence[str]) -> dict[str, str]:
        return chunk_texts(self._retrieve(point_ids, True, False), tenant) if point_ids else {}

    def _retrieve(self, point_ids: Sequence[str], payload: bool, vectors: bool | list[str]) -> list[Any]:
        try:
            with self._lock, metrics.QDRANT_SECONDS.labels("retrieve").time():
                return self._qdrant.retrieve(
                    self.collection, list(point_ids), with_payload=payload, with_vectors=vectors
                )
        except Exception as e:
            raise ServiceUnavailable(f"the vector store did not answer ({type(e).__name__})") from e

    def ping(self) -> None:
        with self._lock:
            self._qdrant.get_collection(self.collection)

    def close(self) -> None:
        self.client.close()


def _filter(tenant: str | Sequence[str], doc_ids: Sequence[str] | None, exclude: Sequence[str] = ()) -> qm.Filter:
    match: qm.Match = qm.MatchValue(value=tenant) if isinstance(tenant, str) else qm.MatchAny(any=list(tenant))
    must: list[qm.Condition] = [qm.FieldCondition(key=TENANT_KEY, match=match)]
    if doc_ids is not None:
        must.append(qm.FieldCondition(key=DOC_KEY, match=qm.MatchAny(any=list(doc_ids))))
    must_not: list[qm.Condition] | None = (
        [qm.FieldCondition(key=DOC_KEY, match=qm.MatchAny(any=list(exclude)))] if exclude else None
    )
    return qm.Filter(must=must, must_not=must_not)
