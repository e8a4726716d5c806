"""The index fingerprint: what the vectors in a collection were made with. Vectors of different
models (even of the same dimension), prefixes, chunking or sparse tokenisation must never be mixed,
so the app refuses to start when the configuration no longer matches, and says what changed.

`qdrant.collection` is an alias; the physical collection it points at, and its fingerprint, are
kept in the database (index_state), so `reindex` can build a new collection beside the old one and
switch over in one step.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select

from app.config import Settings
from app.storage.db import Database, IndexState


def fingerprint(settings: Settings, sparse_version: int) -> dict[str, Any]:
    e, d = settings.embeddings, settings.documents
    # The ONNX int8 backend's vectors are the torch model's within quantisation error, not equal: a
    # switch re-embeds. torch, onnx (fp32) and auto give the same vectors, so they are not named, and
    # indexes made before these options keep their hash.
    backend = {"embeddings.backend": e.backend} if e.provider == "local" and e.backend == "onnx-int8" else {}
    return {
        **backend,
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
