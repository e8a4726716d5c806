"""`reindex`: re-embed every stored document into a fresh collection (after changing the model)."""

from __future__ import annotations

import argparse
from typing import Any

from app.audit import audit, cli_actor
from app.config import Settings
from app.container import Container


def register(sub: Any) -> None:
    p = sub.add_parser("reindex", help="re-embed all documents (needed after switching embedding models)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(handler=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    from app.storage.vector_store import open_client

    if not args.yes and input(f"Drop collection '{settings.qdrant.collection}' and re-embed everything? [y/N] ") != "y":
        print("cancelled")
        return 1
    q = settings.qdrant
    client = open_client(q.url, q.api_key.get_secret_value() if q.api_key else None, settings.qdrant_path, q.timeout_s)
    try:
        if client.collection_exists(q.collection):
            client.delete_collection(q.collection)
    finally:
        client.close()
    container = Container(settings)
    try:
        requeued = container.registry.requeue_ready()
        print(f"re-embedding {requeued} documents with {settings.embeddings.model}")
        results = container.ingestion.resume()
    finally:
        container.close()
    failed = [r for r in results if r.outcome == "failed"]
    for r in failed:
        print(f"failed     {r.file}: {r.message}")
    print(f"reindexed {len(results) - len(failed)} documents")
    audit(
        "reindex",
        cli_actor(),
        outcome="failed" if failed else "ok",
        model=settings.embeddings.model,
        documents=len(results),
        failed=len(failed),
    )
    return 1 if failed else 0
