"""Shared by the retrieval benchmarks: a persistent, ingested workspace under /tmp."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.config import Settings, load_settings  # noqa: E402
from app.container import Container  # noqa: E402
from app.evaluation.runner import EVAL_USER, ingest_folder  # noqa: E402

DOCS = ROOT / "tests" / "data"
QA = DOCS / "eval" / "qa.jsonl"


def settings_for(workspace: Path, **overrides: Any) -> Settings:
    return load_settings(ROOT / "config.yaml", data_dir=workspace, **overrides)


def open_workspace(workspace: Path, embedder: Any = None, **overrides: Any) -> Container:
    """Open (ingesting on first use) a workspace holding every PDF of tests/data for the eval user."""
    container = Container(settings_for(workspace, **overrides))
    if embedder is not None:
        container.__dict__["embedder"] = embedder
    if not container.registry.list(EVAL_USER):
        started = time.perf_counter()
        pages, _ = ingest_folder(container.ingestion, DOCS)
        print(f"ingested {pages} pages into {workspace} in {time.perf_counter() - started:.0f} s", flush=True)
    return container
