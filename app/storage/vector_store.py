"""The vector store the app talks to: one collection of tenant-owned points, dense and sparse
vectors always written, so retrieval.mode can switch between dense and hybrid without re-indexing.

Two engines sit behind the same `VectorStore` interface:
- embedded (no qdrant.url): Qdrant Edge, Qdrant's own engine in-process (`edge_store.py`), one
  shard folder per collection under qdrant.path; or qdrant-client's local mode
  (`qdrant.embedded_engine: local`), a slow Python re-implementation kept for comparison;
- a Qdrant server or Qdrant Cloud (qdrant.url) through llama-index's QdrantVectorStore
  (`qdrant_store.py`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from app.errors import ConfigError, StoreLockedError
from app.storage.index_state import IndexStateStore, differences, short_hash

if TYPE_CHECKING:
    # Annotations only: a command that never touches vectors (re-ingesting unchanged files) does
    # not pay for importing LlamaIndex.
    from llama_index.core.schema import BaseNode, TextNode
    from llama_index.core.vector_stores.types import VectorStoreQueryMode
    from qdrant_client import QdrantClient
    from typing_extensions import TypeIs

    from app.storage.edge_store import EdgeClient

    StoreClient: TypeAlias = QdrantClient | EdgeClient
else:
    StoreClient = Any

TENANT_KEY = "tenant"
DOC_KEY = "doc_id"
# llama-index's vector names: backups and migrated points move between engines unchanged.
DENSE = "text-dense"
SPARSE = "text-sparse-new"
Engine = Literal["edge", "local"]


@dataclass(frozen=True)
class ScoredNode:
    node: TextNode
    score: float


class VectorStore(ABC):
    """Tenant-scoped writes and searches over one collection (or the alias in front of it)."""

    client: Any
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
        tenant: str,
        doc_ids: Sequence[str] | None,
        query_text: str,
        query_embedding: list[float] | None,
        mode: VectorStoreQueryMode,
        limit: int,
        exclude: Sequence[str] = (),
    ) -> list[ScoredNode]:
        """Dense (DEFAULT) or SPARSE search restricted to the tenant's listed documents, or with
        `doc_ids` None to all of the tenant's documents but those in `exclude` (a filter on 10,000
        listed ids made each search about ten times slower: tests/test_unbounded.py)."""

    @abstractmethod
    def ping(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...


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


LOCKED_MESSAGE = (
    "the embedded vector store at {path} is already open in another process "
    "(is `python -m app serve` running?). The embedded store belongs to one process at a time: stop that "
    "process first, run this command through it, or configure qdrant.url to use a Qdrant server that "
    "several processes can share."
)


def open_client(
    url: str | None, api_key: str | None, path: Path, timeout_s: float, engine: Engine = "edge"
) -> StoreClient:
    """A Qdrant server client (url set), else the embedded store at `path` (locked to this process)."""
    if url:
        from qdrant_client import QdrantClient

        return QdrantClient(url=url, api_key=api_key, timeout=int(timeout_s))
    path.mkdir(parents=True, exist_ok=True)
    if engine == "edge":
        from app.storage.edge_store import EdgeClient

        return EdgeClient.open(path)
    from qdrant_client import QdrantClient

    try:
        return QdrantClient(path=str(path))
    except RuntimeError as e:
        if "already accessed" in str(e):
            raise StoreLockedError(LOCKED_MESSAGE.format(path=path)) from e
        raise


def _is_edge(client: StoreClient) -> TypeIs[EdgeClient]:
    from app.storage.edge_store import EdgeClient

    return isinstance(client, EdgeClient)


def open_store(client: StoreClient, collection: str, dim: int, is_server: bool) -> VectorStore:
    """The store over `collection` (created when missing; its dimension checked when present)."""
    if _is_edge(client):
        from app.storage.edge_store import EdgeStore

        return EdgeStore(client, collection, dim)
    from app.storage.qdrant_store import QdrantStore

    return QdrantStore(client, collection, dim, is_server)


def open_index(
    client: StoreClient, alias: str, dim: int, is_server: bool, states: IndexStateStore, fp: dict[str, Any]
) -> VectorStore:
    """The store behind the alias `qdrant.collection`, refusing an index built with other settings.

    A first start creates `<alias>-<hash>` and points the alias at it. A collection made by an
    earlier version under the alias's own name is adopted as it is (its dimension is still checked);
    the next `reindex` moves it behind the alias too."""
    state = states.get(alias)
    if state is None:
        if alias not in collection_names(client):
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
        if _is_edge(client) and state[0] != alias:  # Edge has no aliases of its own: the database has it
            client.point_alias(alias, state[0])
    return open_store(client, alias, dim, is_server)


def collection_names(client: StoreClient) -> set[str]:
    """The physical collections (not the aliases)."""
    if _is_edge(client):
        return set(client.collection_names())
    return {c.name for c in client.get_collections().collections}


def create_collection(client: StoreClient, name: str, dim: int, is_server: bool) -> None:
    if _is_edge(client):
        client.create_collection(name, dim)
        return
    from app.storage.qdrant_store import create_qdrant_collection

    create_qdrant_collection(client, name, dim, is_server)


def point_alias(client: StoreClient, alias: str, physical: str) -> None:
    """Point `alias` at `physical` in one operation (searches never see it missing)."""
    if _is_edge(client):
        client.point_alias(alias, physical)
        return
    from app.storage.qdrant_store import point_qdrant_alias

    point_qdrant_alias(client, alias, physical)
