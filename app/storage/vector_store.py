"""The vector store's contract: one collection of tenant-owned points, dense and sparse vectors
always written, so retrieval.mode can switch between dense and hybrid without re-indexing.

Two engines implement it:
- embedded (no qdrant.url): Qdrant Edge, Qdrant's own engine in-process (`edge_store.py`), one
  shard folder per collection under qdrant.path; or qdrant-client's local mode
  (`qdrant.embedded_engine: local`), a slow Python re-implementation kept for comparison;
- a Qdrant server or Qdrant Cloud (qdrant.url) through llama-index's QdrantVectorStore
  (`qdrant_store.py`, which also drives local mode).

This module imports neither: the backends import it, and `vector_factory.py`, above them, opens the
right one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    # Annotations only: a command that never touches vectors (re-ingesting unchanged files) does
    # not pay for importing LlamaIndex.
    from llama_index.core.schema import BaseNode, TextNode
    from llama_index.core.vector_stores.types import VectorStoreQueryMode

TENANT_KEY = "tenant"
DOC_KEY = "doc_id"
# llama-index's vector names: backups and migrated points move between engines unchanged.
DENSE = "text-dense"
SPARSE = "text-sparse-new"
Engine = Literal["edge", "local"]

LOCKED_MESSAGE = (
    "the embedded vector store at {path} is already open in another process "
    "(is `python -m app serve` running?). The embedded store belongs to one process at a time: stop that "
    "process first, run this command through it, or configure qdrant.url to use a Qdrant server that "
    "several processes can share."
)


class StoreClient(ABC):
    """An open vector store (an embedded folder or a Qdrant server): its collections and the
    aliases in front of them. `qdrant.collection` is an alias; re-indexing builds a new collection
    beside the one in use, then points the alias at it."""

    @abstractmethod
    def collection_names(self) -> list[str]:
        """The physical collections (not the aliases), sorted."""

    @abstractmethod
    def collection_exists(self, name: str) -> bool:
        """Whether `name` is a collection, or an alias pointing at one."""

    @abstractmethod
    def create_collection(self, name: str, dim: int) -> None: ...

    @abstractmethod
    def delete_collection(self, name: str) -> None: ...

    @abstractmethod
    def point_alias(self, alias: str, physical: str) -> None:
        """Point `alias` at `physical` in one operation (searches never see it missing)."""

    @abstractmethod
    def load_alias(self, alias: str, physical: str) -> None:
        """At start, where the database (index_state) says `alias` points: an engine that keeps its
        aliases itself has nothing to do."""

    @abstractmethod
    def close(self) -> None: ...


@dataclass(frozen=True)
class ScoredNode:
    node: TextNode
    score: float


class VectorStore(ABC):
    """Tenant-scoped writes and searches over one collection (or the alias in front of it)."""

    client: StoreClient
    collection: str

    @abstractmethod
    def add(self, nodes: Sequence[BaseNode]) -> None: ...

    @abstractmethod
    def export_points(self, batch: int = 256) -> Iterator[dict[str, Any]]:
        """Every point with its vectors and payload, as plain JSON-able dicts (for backups)."""

    @abstractmethod
    def import_points(self, points: Sequence[dict[str, Any]]) -> None:
        """Write points made by export_points (restoring a backup)."""

    @abstractmethod
    def clear(self) -> None:
        """Delete every point (restoring a backup over an existing workspace)."""

    @property
    @abstractmethod
    def dim(self) -> int | None: ...

    @abstractmethod
    def delete_document(self, tenant: str, doc_id: str) -> None: ...

    @abstractmethod
    def count(self, tenant: str, doc_ids: Sequence[str] | None = None) -> int: ...

    @abstractmethod
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
        """Dense (DEFAULT) or SPARSE search restricted to the tenant's (or tenants': a user's own
        and their libraries') listed documents, or with
        `doc_ids` None to all of the tenant's documents but those in `exclude` (a filter on 10,000
        listed ids made each search about ten times slower: tests/test_unbounded.py)."""

    @abstractmethod
    def vectors(self, point_ids: Sequence[str]) -> dict[str, list[float]]:
        """The stored dense vectors of the points `point_ids` (ids from a search: already scoped to
        the asker's tenants), by point id; a point that no longer exists is left out. The claim check
        reads the cited passages' vectors here instead of embedding them again."""

    @abstractmethod
    def ping(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...


def dense_vectors(records: Iterable[Any]) -> dict[str, list[float]]:
    """point id -> dense vector of retrieved records (either engine's record type: `id` and a
    `vector` dict by name); a record without one is left out."""
    found: dict[str, list[float]] = {}
    for r in records:
        vector = r.vector.get(DENSE) if isinstance(r.vector, dict) else None
        if isinstance(vector, list):
            found[str(r.id)] = [float(x) for x in vector]
    return found


def exported_point(
    point_id: object, vector: object, payload: dict[str, Any] | None, sparse_type: type[Any]
) -> dict[str, Any]:
    """One stored point in the engine-neutral form of `VectorStore.export_points` (backups move
    between engines); `sparse_type` is the engine's own sparse vector class."""
    vectors: dict[str, Any] = vector if isinstance(vector, dict) else {}
    dense, sparse_vec = vectors.get(DENSE), vectors.get(SPARSE)
    return {
        "id": str(point_id),
        "dense": list(dense) if dense is not None else None,
        "sparse": (
            {"indices": list(sparse_vec.indices), "values": list(sparse_vec.values)}
            if isinstance(sparse_vec, sparse_type)
            else None
        ),
        "payload": payload or {},
    }
