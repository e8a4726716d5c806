"""`reindex`: re-embed every stored document into a new collection beside the one in use, then
switch to it (after changing the embedding model, prefixes, chunking or section context)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.audit import audit, cli_actor
from app.config import Settings
from app.container import Container


def register(sub: Any) -> None:
    p = sub.add_parser("reindex", help="rebuild the search index with the current settings, then switch to it")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(handler=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    if not args.yes and input("Re-embed every document with the current settings? [y/N] ") != "y":
        print("cancelled")
        return 1
    with Container(settings) as container:
        service = container.reindexer
        print(f"re-embedding {len(container.registry.all_ready())} documents with {settings.embeddings.model}")
        try:
            result = service.run()
        except Exception:
            audit("reindex", cli_actor(), outcome="failed", model=settings.embeddings.model)
            raise
    for name, reason in result.failed:
        print(f"failed     {name}: {reason}", file=sys.stderr)
    print(f"reindexed {result.documents} documents ({result.chunks} chunks) into {result.collection}")
    audit(
        "reindex",
        cli_actor(),
        outcome="failed" if result.failed else "ok",
        model=settings.embeddings.model,
        documents=result.documents,
        failed=len(result.failed),
    )
    return 1 if result.failed else 0
