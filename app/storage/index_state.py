"""The index fingerprint: what the vectors in a collection were made with. Vectors of different
models (even of the same dimension), prefixes, chunking or sparse tokenisation must never be mixed,
so the app refuses to start when the configuration no longer matches, and says what changed.

The fingerprint also tells `embeddings.backend: auto` which precision an existing index was built
with (`built_precision`), so auto keeps running an index at its own precision.

`qdrant.collection` is an alias; the physical collection it points at, and its fingerprint, are
kept in the database (index_state), so `reindex` can build a new collection beside the old one and
switch over in one step.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from sqlalchemy import select

from app.config import Settings
from app.storage.db import Database, IndexState

INT8 = "onnx-int8"


def fingerprint(settings: Settings, sparse_version: int, backend: str | None = None) -> dict[str, Any]:
    """`backend`: the one that makes the vectors (a local model's `auto` resolved: torch, onnx or
    onnx-int8); the configured one when not given."""
    e, d = settings.embeddings, settings.documents
    # The ONNX int8 backend's vectors are the torch model's within quantisation error, not equal: a
    # switch re-embeds. torch and onnx (fp32) give the same vectors, so they are not named, and
    # indexes made before these options keep their hash.
    int8 = e.provider == "local" and (backend or e.backend) == INT8
    named = {"embeddings.backend": INT8} if int8 else {}
    return {
        **named,
        "embeddings.provider": e.provider,
        "embeddings.model": e.model,
        "embeddings.dimensions": e.dimensions,
        "embeddings.query_prefix": e.query_prefix,
        "embeddings.document_prefix": e.document_prefix,
        "documents.chunk_size": d.chunk_size,
        "documents.chunk_overlap": d.chunk_overlap,
        "documents.section_context": d.section_context,
        "sparse_tokenizer_version": sparse_version,
    }


def built_precision(fp: dict[str, Any]) -> Literal["fp32", "int8"]:
    """The precision of a local model's vectors in an index with this fingerprint (fp32 when the
    fingerprint names no backend: torch, onnx, and every index made before int8 existed)."""
    return "int8" if fp.get("embeddings.backend") == INT8 else "fp32"


def short_hash(fp: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(fp, sort_keys=True).encode()).hexdigest()[:10]


def differences(stored: dict[str, Any], current: dict[str, Any]) -> list[str]:
    keys = sorted(set(stored) | set(current))
    return [f"{k}: {stored.get(k)!r} -> {current.get(k)!r}" for k in keys if stored.get(k) != current.get(k)]


class IndexStateStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, alias: str) -> tuple[str, dict[str, Any]] | None:
        with self._db.session() as s:
            row = s.scalar(select(IndexState).where(IndexState.alias == alias))
            return (row.collection, dict(row.fingerprint)) if row else None

    def set(self, alias: str, collection: str, fp: dict[str, Any]) -> None:
        with self._db.session() as s:
            row = s.get(IndexState, alias)
            if row is None:
                s.add(IndexState(alias=alias, collection=collection, fingerprint=fp))
            else:
                row.collection, row.fingerprint = collection, fp
