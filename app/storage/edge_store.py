"""The embedded store on Qdrant Edge: Qdrant's own engine (HNSW, payload indexes, sparse vectors
with IDF) in this process, instead of qdrant-client's local mode, a Python re-implementation that
scans every point and evaluates filters in Python (bench/vector_store.py compares them).

Layout under qdrant.path: `edge/<collection>/` is one Edge shard per collection; Edge has no
aliases, so the collection an alias points at is kept in the database (index_state) and given to
`EdgeClient.load_alias` at start and to `point_alias` by `reindex`. The folder belongs to one process at a time
(`<path>/.lock`, the same lock file local mode uses).

EdgeShard can be called from several threads at once (reads, writes and the optimizer run
concurrently; tested in tests/test_edge_store.py), so searches take no Python lock; a use count
only keeps a shard from being closed under a running call (reindex drops the old one).
"""

from __future__ import annotations

import fcntl
import json
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import qdrant_edge as qe
from loguru import logger

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

if TYPE_CHECKING:  # LlamaIndex is imported where nodes are made or read, not by opening the store
    from llama_index.core.schema import BaseNode
    from llama_index.core.vector_stores.types import VectorStoreQueryMode

SHARDS = "edge"
BATCH = 256
# Segments are indexed (HNSW) once writes have paused this long, so ingestion is not slowed by it.
OPTIMIZE_AFTER_IDLE_S = 5.0
# Segments smaller than this (KB of vectors) are searched without HNSW; None = Edge's default.
INDEXING_THRESHOLD_KB: int | None = None
# A tenant with at most this many chunks gets an exact dense search instead of HNSW.
EXACT_SEARCH_UP_TO = 50_000


def edge_config(dim: int | None) -> qe.EdgeConfig:
    return qe.EdgeConfig(
        vectors={DENSE: qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine)} if dim else None,
        sparse_vectors={SPARSE: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
        optimizers=qe.EdgeOptimizersConfig(indexing_threshold=INDEXING_THRESHOLD_KB) if INDEXING_THRESHOLD_KB else None,
    )


class EdgeClient(StoreClient):
    """The embedded store folder: its Edge shards by name, the aliases, the process lock and a
    background optimizer."""

    def __init__(self, root: Path, lock: IO[str] | None) -> None:
        self._lock_file = lock  # None: the caller holds the folder (migration)
        self._root = root
        self._root.mkdir(exist_ok=True)
        self._shards: dict[str, qe.EdgeShard] = {}
        self._aliases: dict[str, str] = {}
        self._uses: dict[str, int] = {}
        self._state = threading.Condition()
        self._dirty: dict[str, float] = {}  # shard -> time of its last write
        self._closed = False
        # Points written by an earlier run (or a migration) may be unindexed: check once, after a pause.
        self._dirty.update({name: time.monotonic() for name in self.collection_names()})
        self._optimizer = threading.Thread(target=self._optimize_loop, name="edge-optimizer", daemon=True)
        self._optimizer.start()

    @classmethod
    def open(cls, path: Path) -> EdgeClient:
        """The Edge shards under `path`, locked to this process (a local-mode store there is moved
        into Edge first, by vector_factory.open_client)."""
        path.mkdir(parents=True, exist_ok=True)
        lock = open(path / ".lock", "a")  # noqa: SIM115 - held until close()
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            lock.close()
            raise StoreLockedError(LOCKED_MESSAGE.format(path=path)) from e
        return cls(path / SHARDS, lock)

    # ---- collections and aliases ---------------------------------------------------------------

    def resolve(self, name: str) -> str:
        return self._aliases.get(name, name)

    def collection_names(self) -> list[str]:
        return sorted(p.name for p in self._root.iterdir() if (p / "edge_config.json").exists())

    def collection_exists(self, name: str) -> bool:
        return (self._root / self.resolve(name) / "edge_config.json").exists()

    def create_collection(self, name: str, dim: int) -> None:
        with self._state:
            shard = qe.EdgeShard.create(str(self._root / name), edge_config(dim))
            shard.update(qe.UpdateOperation.create_field_index(TENANT_KEY, qe.KeywordIndexParams(is_tenant=True)))
            shard.update(qe.UpdateOperation.create_field_index(DOC_KEY, qe.PayloadSchemaType.Keyword))
            self._shards[name] = shard
        logger.info("edge shard created name={} dim={}", name, dim)

    def point_alias(self, alias: str, physical: str) -> None:
        with self._state:
            self._aliases[alias] = physical

    def load_alias(self, alias: str, physical: str) -> None:
        """Edge has no aliases of its own: the database keeps them, and tells them here at start."""
        self.point_alias(alias, physical)

    def delete_collection(self, name: str) -> None:
        physical = self.resolve(name)
        with self._state:
            while self._uses.get(physical):
                self._state.wait()
            shard = self._shards.pop(physical, None)
            self._dirty.pop(physical, None)
            if shard is not None:
                shard.close()
            shutil.rmtree(self._root / physical, ignore_errors=True)
        logger.info("edge shard deleted name={}", physical)

    def dim(self, name: str) -> int | None:
        config = json.loads((self._root / self.resolve(name) / "edge_config.json").read_text())
        size = config.get("vectors", {}).get(DENSE, {}).get("size")
        return int(size) if size else None

    @contextmanager
    def shard(self, name: str, dim: int | None = None) -> Iterator[qe.EdgeShard]:
        """The open shard behind `name` (an alias or a collection), kept open while in use."""
        with self._state:
            if self._closed:
                raise ServiceUnavailable("the vector store is closed")
            physical = self.resolve(name)
            shard = self._shards.get(physical)
            if shard is None:
                shard = self._shards[physical] = qe.EdgeShard.load(str(self._root / physical), edge_config(dim))
            self._uses[physical] = self._uses.get(physical, 0) + 1
        try:
            yield shard
        finally:
            with self._state:
                self._uses[physical] -= 1
                self._state.notify_all()

    def written(self, name: str) -> None:
        with self._state:
            self._dirty[self.resolve(name)] = time.monotonic()
            self._state.notify_all()

    # ---- background indexing -------------------------------------------------------------------

    def _optimize_loop(self) -> None:
        while True:
            with self._state:
                name = self._next_to_optimize()
                while name is None and not self._closed:
                    self._state.wait(timeout=OPTIMIZE_AFTER_IDLE_S)
                    name = self._next_to_optimize()
                if self._closed or name is None:
                    return
                self._dirty.pop(name, None)
            try:
                with self.shard(name) as shard:
                    started = time.perf_counter()
                    if shard.optimize():
                        logger.info("edge shard indexed name={} seconds={:.1f}", name, time.perf_counter() - started)
            except Exception as e:  # searching still works on unindexed segments, only slower
                logger.warning("edge shard indexing failed name={} error={}", name, type(e).__name__)

    def _next_to_optimize(self) -> str | None:
        now = time.monotonic()
        return next((n for n, t in self._dirty.items() if now - t >= OPTIMIZE_AFTER_IDLE_S), None)

    def optimize_now(self) -> bool:
        """Index every open shard now (benchmarks); normally the background thread does it.
        Returns whether any segment was rebuilt."""
        rebuilt = False
        for name in list(self._shards):
            with self.shard(name) as shard:
                rebuilt = shard.optimize() or rebuilt
        return rebuilt

    def close(self) -> None:
        with self._state:
            if self._closed:
                return
            self._closed = True
            self._state.notify_all()
        self._optimizer.join()
        with self._state:
            while any(self._uses.values()):
                self._state.wait()
            for shard in self._shards.values():
                shard.flush()
                shard.close()
            self._shards.clear()
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()


class EdgeStore(VectorStore):
    """Tenant-scoped writes and searches over one Edge shard; points and payloads are exactly what
    llama-index's QdrantVectorStore writes (node ids, `_node_content`, metadata at the top level)."""

    client: EdgeClient

    def __init__(self, client: EdgeClient, collection: str, dim: int) -> None:
        self.client = client
        self.collection = collection
        if not client.collection_exists(collection):
            client.create_collection(client.resolve(collection), dim)
        existing = client.dim(collection)
        if existing != dim:
            raise ConfigError(
                f"the Qdrant collection '{collection}' holds {existing}-dimensional vectors but the "
                f"embedding model makes {dim}-dimensional ones: the model was changed. Run "
                "`python -m app reindex` to re-embed every document, or set qdrant.collection to a new name."
            )
        self._dim = dim

    def _update(self, op: qe.UpdateOperation) -> None:
        with self.client.shard(self.collection, self._dim) as shard:
            shard.update(op)
        self.client.written(self.collection)

    def add(self, nodes: Sequence[BaseNode]) -> None:
        try:
            with metrics.QDRANT_SECONDS.labels("upsert").time():
                for start in range(0, len(nodes), BATCH):
                    self._update(qe.UpdateOperation.upsert_points(_points(nodes[start : start + BATCH])))
        except Exception as e:
            raise ServiceUnavailable(f"the vector store failed to save ({type(e).__name__})") from e

    def export_points(self, batch: int = BATCH) -> Iterator[dict[str, Any]]:
        offset: Any = None
        while True:
            request = qe.ScrollRequest(offset=offset, limit=batch, with_payload=True, with_vector=True)
            with self.client.shard(self.collection, self._dim) as shard:
                records, offset = shard.scroll(request)
            for r in records:
                yield exported_point(r.id, r.vector, r.payload, qe.SparseVector)
            if offset is None:
                return

    def import_points(self, points: Sequence[dict[str, Any]]) -> None:
        structs = []
        for p in points:
            vector: dict[str, Any] = {}
            if p.get("dense") is not None:
                vector[DENSE] = p["dense"]
            if p.get("sparse") is not None:
                vector[SPARSE] = qe.SparseVector(p["sparse"]["indices"], p["sparse"]["values"])
            structs.append(qe.Point(id=p["id"], vector=vector, payload=p["payload"]))
        try:
            self._update(qe.UpdateOperation.upsert_points(structs))
        except Exception as e:
            raise ServiceUnavailable(f"the vector store failed to save ({type(e).__name__})") from e

    def clear(self) -> None:
        self._update(qe.UpdateOperation.delete_points_by_filter(qe.Filter()))

    @property
    def dim(self) -> int | None:
        return self.client.dim(self.collection)

    def delete_document(self, tenant: str, doc_id: str) -> None:
        try:
            self._update(qe.UpdateOperation.delete_points_by_filter(_filter(tenant, [doc_id])))
        except Exception as e:
            raise ServiceUnavailable(f"the vector store failed to delete ({type(e).__name__})") from e

    def count(self, tenant: str, doc_ids: Sequence[str] | None = None) -> int:
        with self.client.shard(self.collection, self._dim) as shard:
            return shard.count(qe.CountRequest(exact=True, filter=_filter(tenant, doc_ids)))

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
        from llama_index.core.schema import TextNode
        from llama_index.core.vector_stores.types import VectorStoreQueryMode
        from llama_index.core.vector_stores.utils import metadata_dict_to_node

        if doc_ids is not None and not doc_ids:
            return []
        if mode == VectorStoreQueryMode.SPARSE:
            [indices], [values] = sparse.encode_queries([query_text])
            if not indices:
                return []
            query = qe.Query.Nearest(qe.SparseVector(indices, values), using=SPARSE)
        elif query_embedding is not None:
            query = qe.Query.Nearest(list(query_embedding), using=DENSE)
        else:
            raise ValueError("a dense search needs the query embedding")
        try:
            with metrics.QDRANT_SECONDS.labels("search").time(), self.client.shard(self.collection, self._dim) as shard:
                if mode == VectorStoreQueryMode.SPARSE:
                    # Sparse scores weigh words by IDF over the asking tenant's own chunks, never over
                    # everyone's: another user's uploads must not move this user's scores
                    # (bench/cross_tenant_idf.py).
                    params = qe.SearchParams(idf=qe.IdfParams(corpus=_filter(tenant, None)))
                else:
                    # HNSW can leave a lone chunk unreachable among thousands of similar ones (a
                    # library of 10,000 documents in tests/test_unbounded.py); an exact search over
                    # one tenant's chunks costs about a millisecond per 10,000 here.
                    tenant_points = shard.count(qe.CountRequest(exact=True, filter=_filter(tenant, None)))
                    params = qe.SearchParams(exact=tenant_points <= EXACT_SEARCH_UP_TO)
                request = qe.QueryRequest(
                    limit=limit, query=query, filter=_filter(tenant, doc_ids, exclude), params=params, with_payload=True
                )
                points = shard.query(request)
        except Exception as e:
            raise ServiceUnavailable(f"the vector store did not answer ({type(e).__name__})") from e
        results = []
        for p in points:
            node = metadata_dict_to_node(p.payload or {})
            if isinstance(node, TextNode):
                results.append(ScoredNode(node=node, score=float(p.score)))
        return results

    def vectors(self, point_ids: Sequence[str]) -> dict[str, list[float]]:
        return dense_vectors(self._retrieve(point_ids, False, [DENSE])) if point_ids else {}

    def texts(self, tenant: str, point_ids: Sequence[str]) -> dict[str, str]:
        return chunk_texts(self._retrieve(point_ids, True, False), tenant) if point_ids else {}

    def _retrieve(self, point_ids: Sequence[str], payload: bool, vectors: bool | list[str]) -> list[Any]:
        try:
            with (
                metrics.QDRANT_SECONDS.labels("retrieve").time(),
                self.client.shard(self.collection, self._dim) as shard,
            ):
                return shard.retrieve(list(point_ids), payload, vectors)
        except Exception as e:
            raise ServiceUnavailable(f"the vector store did not answer ({type(e).__name__})") from e

    def ping(self) -> None:
        with self.client.shard(self.collection, self._dim) as shard:
            shard.info()

    def close(self) -> None:
        self.client.close()


def _points(nodes: Sequence[BaseNode]) -> list[qe.Point]:
    from llama_index.core.schema import MetadataMode
    from llama_index.core.vector_stores.utils import node_to_metadata_dict

    indices, values = sparse.encode_documents([n.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes])
    return [
        qe.Point(
            id=node.node_id,
            vector={DENSE: node.get_embedding(), SPARSE: qe.SparseVector(idx, val)},
            payload=node_to_metadata_dict(node, remove_text=False, flat_metadata=False),
        )
        for node, idx, val in zip(nodes, indices, values, strict=True)
    ]


def _filter(tenant: str | Sequence[str], doc_ids: Sequence[str] | None, exclude: Sequence[str] = ()) -> qe.Filter:
    match = qe.MatchValue(tenant) if isinstance(tenant, str) else qe.MatchAny(list(tenant))
    must: list[Any] = [qe.FieldCondition(key=TENANT_KEY, match=match)]
    if doc_ids is not None:
        must.append(qe.FieldCondition(key=DOC_KEY, match=qe.MatchAny(list(doc_ids))))
    must_not: list[Any] | None = [qe.FieldCondition(key=DOC_KEY, match=qe.MatchAny(list(exclude)))] if exclude else None
    return qe.Filter(must=must, must_not=must_not)


def shard_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0
