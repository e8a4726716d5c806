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

import uuid
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
# A chunk's point id: the document, the page and the chunk's place on the page, so the chunks around
# a cited one are found by id (uuid5 of "<doc id>:<page>:<index>").
NODE_NAMESPACE = uuid.UUID("6f1c2b1e-9a55-4c2b-8f0e-3d7c1e0b9a11")
MAX_CHUNKS_PER_PAGE = 64  # where a cited chunk's place on its page is looked for


def chunk_point_id(doc_id: str, page: int, index: int) -> str:
    return str(uuid.uuid5(NODE_NAMESPACE, f"{doc_id}:{page}:{index}"))


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
    def texts(self, tenant: str, point_ids: Sequence[str]) -> dict[str, str]:
        """The chunk text of those of the points `point_ids` that exist and belong to `tenant`, by
        point id (the claim check reads the chunks around a cited one)."""

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


def chunk_texts(records: Iterable[Any], tenant: str) -> dict[str, str]:
    """point id -> chunk text of retrieved records with payload (either engine's record type), for
    the points of `tenant` only."""
    from llama_index.core.schema import MetadataMode, TextNode
    from llama_index.core.vector_stores.utils import metadata_dict_to_node

    found: dict[str, str] = {}
    for r in records:
        payload = r.payload or {}
        if payload.get(TENANT_KEY) != tenant:
            continue
        node = metadata_dict_to_node(payload)
        if isinstance(node, TextNode):
            found[str(r.id)] = node.get_content(MetadataMode.NONE)
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
