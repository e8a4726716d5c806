"""The answer cache: a repeated question from the same user, over the same ready documents and the
same model settings, is answered again without calling the LLM.

The key includes a fingerprint of the user's ready documents (id and last change of each), so an
upload, a delete or a reindex changes the key: stale answers are never served, in any process.
Entries live in the app database, shared by every process, and expire after `cache.answer_ttl_s`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select

from app.documents.registry import DocumentRegistry
from app.storage.db import CachedAnswer, Database, utcnow
from app.text_forms import match_form

_TRAILING = re.compile(r"[\s?？.。!！]+$")


def normalise(question: str) -> str:
    """Case, width and spacing do not make a different question; nor does the final '?'."""
    text = " ".join(match_form(question).casefold().split())
    return _TRAILING.sub("", text)


class AnswerCache:
    def __init__(self, db: Database, registry: DocumentRegistry, ttl_s: float, settings_tag: str) -> None:
        self._db = db
        self._registry = registry
        self._ttl = timedelta(seconds=ttl_s)
        self._settings_tag = settings_tag  # model and retrieval settings that shape an answer

    def key(
        self, owner: str, question: str, doc_ids: Sequence[str] | None, tenants: Sequence[str] | None = None
    ) -> str:
        """`tenants`: whose documents the question searches (the asker's and their libraries');
        joining or leaving a group changes them, and so the key."""
        versions = self._registry.ready_versions(list(tenants) if tenants else owner, doc_ids)
        docs = sorted(f"{doc_id}:{updated.isoformat()}" for doc_id, updated in versions)
        material = json.dumps([normalise(question), docs, self._settings_tag], ensure_ascii=False)
        return hashlib.sha256(material.encode()).hexdigest()

    def get(self, owner: str, key: str) -> dict[str, Any] | None:
        with self._db.session() as s:
            row = s.get(CachedAnswer, (owner, key))
            if row is None or row.created_at < utcnow() - self._ttl:
                return None
            return dict(row.answer)

    def put(self, owner: str, key: str, answer: dict[str, Any]) -> None:
        with self._db.session() as s:
            s.execute(
                delete(CachedAnswer).where(CachedAnswer.owner == owner, CachedAnswer.created_at < utcnow() - self._ttl)
            )
            row = s.get(CachedAnswer, (owner, key))
            if row is None:
                s.add(CachedAnswer(owner=owner, key=key, answer=answer))
            else:
                row.answer, row.created_at = answer, utcnow()

    def clear(self, owner: str) -> int:
        with self._db.session() as s:
            keys = list(s.scalars(select(CachedAnswer.key).where(CachedAnswer.owner == owner)))
            s.execute(delete(CachedAnswer).where(CachedAnswer.owner == owner))
            return len(keys)
