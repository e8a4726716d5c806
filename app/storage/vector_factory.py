"""Opening the vector store: the client the configuration asks for (a Qdrant server, Qdrant Edge
in this process, or qdrant-client's local mode), with a local-mode folder moved into Edge before
Edge takes it, and the store behind the `qdrant.collection` alias, refused when the index was built
with other settings.

The one module that knows every backend; the rest of the app uses the contract in vector_store.py.
Backends are imported when chosen: a Qdrant server never loads Edge's engine, and Edge never loads
llama-index's Qdrant store (unless a local-mode folder is to be moved).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.errors import ConfigError
from app.storage.index_state import IndexStateStore, differences, short_hash
from app.storage.vector_store import Engine, StoreClient, VectorStore


def open_client(
    url: str | None, api_key: str | None, path: Path, timeout_s: float, engine: Engine = "edge"
) -> StoreClient:
    """A Qdrant server client (url set), else the embedded store at `path` (locked to this process)."""
    if url:
        from app.storage.qdrant_store import QdrantConnection

        return QdrantConnection.server(url, api_key, timeout_s)
    path.mkdir(parents=True, exist_ok=True)
    if engine == "edge":
        from app.storage.edge_migration import migrate_local_mode
        from app.storage.edge_store import EdgeClient

        migrate_local_mode(path)  # before Edge locks the folder: the old store takes the same lock
        return EdgeClient.open(path)
    from app.storage.qdrant_store import QdrantConnection

    return QdrantConnection.local(path)


def open_store(client: StoreClient, collection: str, dim: int, is_server: bool) -> VectorStore:
    """The store over `collection` (created when missing; its dimension checked when present)."""
    from app.storage.edge_store import EdgeClient, EdgeStore

    if isinstance(client, EdgeClient):
        return EdgeStore(client, collection, dim)
    from app.storage.qdrant_store import QdrantConnection, QdrantStore

    if isinstance(client, QdrantConnection):
        return QdrantStore(client, collection, dim, is_server)
    raise TypeError(f"no vector store for a {type(client).__name__}")


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
            client.create_collection(physical, dim)
            client.point_alias(alias, physical)
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
        if state[0] != alias:
            client.load_alias(alias, state[0])
    return open_store(client, alias, dim, is_server)


def collection_names(client: StoreClient) -> set[str]:
    """The physical collections (not the aliases)."""
    return set(client.collection_names())
