"""One-time move of an embedded store made by qdrant-client's local mode (before Qdrant Edge became
the embedded engine) into Edge shards: every point of every collection, with its vectors and
payload, under the same collection name. The old files are kept, renamed, beside the new ones
(`local-mode-<time>/`), so going back is a rename; delete them once satisfied.

Run by vector_factory.open_client before the Edge client takes the folder's lock (the old store
takes the same lock)."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from loguru import logger

from app.storage.edge_store import SHARDS, EdgeClient, EdgeStore
from app.storage.vector_store import DENSE


def local_mode_collections(path: Path) -> list[str]:
    """Collections of a qdrant-client local-mode store at `path` (none when it is not one)."""
    meta = path / "meta.json"
    if not meta.exists():
        return []
    names = json.loads(meta.read_text()).get("collections", {})
    return sorted(n for n in names if (path / "collection" / n / "storage.sqlite").exists())


def migrate_local_mode(path: Path) -> bool:
    """Copy a local-mode store at `path` into Edge shards, unless Edge shards are already there.
    Returns whether anything was migrated."""
    names = local_mode_collections(path)
    if not names or (path / SHARDS).exists():
        return False
    from app.storage.qdrant_store import QdrantConnection, QdrantStore  # LlamaIndex: only when there is work

    started = time.perf_counter()
    old = QdrantConnection.local(path)
    staging = path / f"{SHARDS}.migrating"
    counts = {}
    try:
        shutil.rmtree(staging, ignore_errors=True)  # left by a migration that was interrupted
        staging.mkdir()
        client = EdgeClient(staging, lock=None)  # the old client holds the folder's lock meanwhile
        try:
            for name in names:
                vectors = old.qdrant.get_collection(name).config.params.vectors
                dim = vectors[DENSE].size if isinstance(vectors, dict) else None
                if dim is None:
                    raise RuntimeError(f"collection {name} has no '{DENSE}' vectors")
                source = QdrantStore(old, name, dim, is_server=False)
                target = EdgeStore(client, name, dim)
                batch, counts[name] = [], 0
                for point in source.export_points():
                    batch.append(point)
                    if len(batch) >= 256:
                        target.import_points(batch)
                        counts[name] += len(batch)
                        batch = []
                if batch:
                    target.import_points(batch)
                    counts[name] += len(batch)
        finally:
            client.close()
    finally:
        old.close()
    kept = path / f"local-mode-{time.strftime('%Y%m%d-%H%M%S')}"
    kept.mkdir()
    for item in ("collection", "meta.json"):
        (path / item).rename(kept / item)
    staging.rename(path / SHARDS)
    logger.info(
        "embedded store migrated from qdrant-client local mode to Qdrant Edge path={} points={} seconds={:.1f} "
        "old_files={}",
        path,
        counts,
        time.perf_counter() - started,
        kept,
    )
    return True
