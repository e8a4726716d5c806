"""Qdrant through llama-index's QdrantVectorStore: one collection, every point owned by a tenant.

Embedded (local folder) by default, a server or Qdrant Cloud with qdrant.url. Dense and sparse
vectors are always written, so retrieval.mode can switch between dense and hybrid without re-indexing.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llama_index.core.schema import BaseNode, TextNode
from llama_index.core.vector_stores.types import VectorStoreQuery, VectorStoreQueryMode
from llama_index.vector_stores.qdrant import QdrantVectorStore
from llama_index.vector_stores.qdrant.base import DEFAULT_DENSE_VECTOR_NAME, DEFAULT_SPARSE_VECTOR_NAME
from loguru import logger
from qdrant_client import QdrantClient
from qdrant_client import models as qm

from app import metrics
from app.answering import sparse
from app.errors import ConfigError, ServiceUnavailable, StoreLockedError
from app.storage.index_state import IndexStateStore, differences, short_hash

TENANT_KEY = "tenant"
DOC_KEY = "doc_id"


@dataclass(frozen=True)
class ScoredNode:
    node: TextNode
    score: float


def open_client(url: str | None, api_key: str | None, path: Path, timeout_s: float) -> QdrantClient:
    if url:
        return QdrantClient(url=url, api_key=api_key, timeout=int(timeout_s))
    path.mkdir(parents=True, exist_ok=True)
    try:
        return QdrantClient(path=str(path))
    except RuntimeError as e:
        if "already accessed" in str(e):
            raise StoreLockedError(
                f"the embedded vector store at {path} is already open in another process "
                "(is `python -m app serve` running?). Stop that process first, run this command through "
                "it, or configure qdrant.url to use a Qdrant server that several processes can share."
            ) from e
        raise


def open_index(
    client: QdrantClient, alias: str, dim: int, is_server: bool, states: IndexStateStore, fp: dict[str, Any]
) -> VectorStore:
    """The store behind the alias `qdrant.collection`, refusing an index built with other settings.

    A first start creates `<alias>-<hash>` and points the alias at it. A collection made by an
    earlier version under the alias's own name is adopted as it is (its dimension is still checked);
    the next `reindex` moves it behind the alias too."""
    state = states.get(alias)
    if state is None:
        if alias not in _physical(client):
            physical = f"{alias}-{short_hash(fp)}"
            create_collection(client, physical, dim, is_server)
            point_alias(client, alias, physical)
            states.set(alias, physical, fp)
        else:
            states.set(alias, alias, fp)
    else:
        changed = differences(state[1], fp)
        if changed:
            raise ConfigError(
                f"the search index '{alias}' was built with other settings ({'; '.join(changed)}). "
                "Run `python -m app reindex` to rebuild it with the current ones (the old index keeps "
                "serving until the new one is complete), or restore the previous settings."
            )
    return VectorStore(client, alias, dim, is_server)


_LOCKS: weakref.WeakKeyDictionary[QdrantClient, threading.RLock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def _client_lock(client: QdrantClient) -> threading.RLock:
    with _LOCKS_GUARD:
        lock = _LOCKS.get(client)
        if lock is None:
            lock = _LOCKS[client] = threading.RLock()
        return lock


def _physical(client: QdrantClient) -> set[str]:
    return {c.name for c in client.get_collections().collections}


def create_collection(client: QdrantClient, name: str, dim: int, is_server: bool) -> None:
    client.create_collection(
        name,
        vectors_config={DEFAULT_DENSE_VECTOR_NAME: qm.VectorParams(size=dim, distance=qm.Distance.COSINE)},
        sparse_vectors_config={DEFAULT_SPARSE_VECTOR_NAME: qm.SparseVectorParams(modifier=qm.Modifier.IDF)},
    )
    if is_server:  # payload indexes are a no-op in embedded mode
        client.create_payload_index(
            name, TENANT_KEY, field_schema=qm.KeywordIndexParams(type=qm.KeywordIndexType.KEYWORD, is_tenant=True)
        )
        client.create_payload_index(name, DOC_KEY, field_schema=qm.PayloadSchemaType.KEYWORD)
    logger.info("qdrant collection created name={} dim={}", name, dim)


def point_alias(client: QdrantClient, alias: str, physical: str) -> None:
    """Point `alias` at `physical` in one operation (searches never see it missing)."""
    ops: list[Any] = []
    if alias in {a.alias_name for a in client.get_aliases().aliases}:
        ops.append(qm.DeleteAliasOperation(delete_alias=qm.DeleteAlias(alias_name=alias)))
    ops.append(qm.CreateAliasOperation(create_alias=qm.CreateAlias(collection_name=physical, alias_name=alias)))
    client.update_collection_aliases(change_aliases_operations=ops)


class VectorStore:
    """Tenant-scoped writes and searches over one Qdrant collection."""

    def __init__(self, client: QdrantClient, collection: str, dim: int, is_server: bool) -> None:
        self.client = client
        self.collection = collection
        # The embedded engine keeps points in plain Python structures: one operation at a time, for
        # every store over the same client (re-indexing writes a new collection while searches run).
        self._lock: AbstractContextManager[object] = nullcontext() if is_server else _client_lock(client)
        self._ensure_collection(dim, is_server)
        self.store = QdrantVectorStore(
            collection_name=collection,
            client=client,
            enable_hybrid=True,
            sparse_doc_fn=sparse.encode_documents,
            sparse_query_fn=sparse.encode_queries,
            batch_size=128,
        )

    def _ensure_collection(self, dim: int, is_server: bool) -> None:
        if self.client.collection_exists(self.collection):
            info = self.client.get_collection(self.collection)
            vectors = info.config.params.vectors
            existing = vectors[DEFAULT_DENSE_VECTOR_NAME].size if isinstance(vectors, dict) else None
            if existing != dim:
                raise ConfigError(
                    f"the Qdrant collection '{self.collection}' holds {existing}-dimensional vectors but the "
                    f"embedding model makes {dim}-dimensional ones: the model was changed. Run "
                    "`python -m app reindex` to re-embed every document, or set qdrant.collection to a new name."
                )
        else:
            self.client.create_collection(
                self.collection,
                vectors_config={DEFAULT_DENSE_VECTOR_NAME: qm.VectorParams(size=dim, distance=qm.Distance.COSINE)},
                sparse_vectors_config={DEFAULT_SPARSE_VECTOR_NAME: qm.SparseVectorParams(modifier=qm.Modifier.IDF)},
            )
            logger.info("qdrant collection created name={} dim={}", self.collection, dim)
        if is_server:  # payload indexes are a no-op in embedded mode
            self.client.create_payload_index(
                self.collection,
                TENANT_KEY,
                field_schema=qm.KeywordIndexParams(type=qm.KeywordIndexType.KEYWORD, is_tenant=True),
            )
            self.client.create_payload_index(self.collection, DOC_KEY, field_schema=qm.PayloadSchemaType.KEYWORD)

    def add(self, nodes: Sequence[BaseNode]) -> None:
        try:
            with self._lock, metrics.QDRANT_SECONDS.labels("upsert").time():
                self.store.add(list(nodes))
        except Exception as e:
            raise ServiceUnavailable(f"the vector store failed to save ({type(e).__name__})") from e

    def export_points(self, batch: int = 256) -> Iterator[dict[str, Any]]:
        """Every point with its vectors and payload, as plain JSON-able dicts (for backups)."""
        offset: Any = None
        while True:
            with self._lock:
                records, offset = self.client.scroll(
                    self.collection, limit=batch, offset=offset, with_payload=True, with_vectors=True
                )
            for r in records:
                vectors = r.vector if isinstance(r.vector, dict) else {}
                dense = vectors.get(DEFAULT_DENSE_VECTOR_NAME)
                sparse_vec = vectors.get(DEFAULT_SPARSE_VECTOR_NAME)
                yield {
                    "id": str(r.id),
                    "dense": list(dense) if dense is not None else None,
                    "sparse": (
                        {"indices": list(sparse_vec.indices), "values": list(sparse_vec.values)}
                        if isinstance(sparse_vec, qm.SparseVector)
                        else None
                    ),
                    "payload": r.payload or {},
                }
            if offset is None:
                return

    def import_points(self, points: Sequence[dict[str, Any]]) -> None:
        """Write points made by export_points (restoring a backup)."""
        structs = []
        for p in points:
            vector: dict[str, Any] = {}
            if p.get("dense") is not None:
                vector[DEFAULT_DENSE_VECTOR_NAME] = p["dense"]
            if p.get("sparse") is not None:
                vector[DEFAULT_SPARSE_VECTOR_NAME] = qm.SparseVector(**p["sparse"])
            structs.append(qm.PointStruct(id=p["id"], vector=vector, payload=p["payload"]))
        try:
            with self._lock:
                self.client.upsert(self.collection, points=structs)
        except Exception as e:
            raise ServiceUnavailable(f"the vector store failed to save ({type(e).__name__})") from e

    def clear(self) -> None:
        """Delete every point (restoring a backup over an existing workspace)."""
        with self._lock:
            self.client.delete(self.collection, points_selector=qm.FilterSelector(filter=qm.Filter()))

    @property
    def dim(self) -> int | None:
        vectors = self.client.get_collection(self.collection).config.params.vectors
        return vectors[DEFAULT_DENSE_VECTOR_NAME].size if isinstance(vectors, dict) else None

    def delete_document(self, tenant: str, doc_id: str) -> None:
        try:
            with self._lock:
                self.client.delete(
                    self.collection,
                    points_selector=qm.FilterSelector(filter=_filter(tenant, [doc_id])),
                )
        except Exception as e:
            raise ServiceUnavailable(f"the vector store failed to delete ({type(e).__name__})") from e

    def count(self, tenant: str, doc_ids: Sequence[str] | None = None) -> int:
        with self._lock:
            return self.client.count(self.collection, count_filter=_filter(tenant, doc_ids), exact=True).count

    def search(
        self,
        tenant: str,
        doc_ids: Sequence[str],
        query_text: str,
        query_embedding: list[float] | None,
        mode: VectorStoreQueryMode,
        limit: int,
    ) -> list[ScoredNode]:
        """Dense (DEFAULT) or SPARSE search restricted to the tenant's listed documents."""
        if not doc_ids:
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
                result = self.store.query(query, qdrant_filters=_filter(tenant, doc_ids))
        except Exception as e:
            raise ServiceUnavailable(f"the vector store did not answer ({type(e).__name__})") from e
        nodes = result.nodes or []
        scores = result.similarities or [0.0] * len(nodes)
        return [
            ScoredNode(node=n, score=float(s)) for n, s in zip(nodes, scores, strict=False) if isinstance(n, TextNode)
        ]

    def ping(self) -> None:
        with self._lock:
            self.client.get_collection(self.collection)

    def close(self) -> None:
        self.client.close()


def _filter(tenant: str, doc_ids: Sequence[str] | None) -> qm.Filter:
    must: list[qm.Condition] = [qm.FieldCondition(key=TENANT_KEY, match=qm.MatchValue(value=tenant))]
    if doc_ids is not None:
        must.append(qm.FieldCondition(key=DOC_KEY, match=qm.MatchAny(any=list(doc_ids))))
    return qm.Filter(must=must)
