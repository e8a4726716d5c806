"""Token accounting: every LLM call's provider-reported usage, per user, in the app database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from app.models.llm import Usage
from app.storage.db import Database, UsageRecord


class UsageRecorder:
    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, owner: str, kind: str, model: str, usage: Usage) -> None:
        with self._db.session() as s:
            s.add(
                UsageRecord(
                    owner=owner,
                    kind=kind,
                    model=model,
                    prompt_tokens=usage.prompt_tokens,
                    completion_tokens=usage.completion_tokens,
                )
            )

    def totals(self, owner: str, since: datetime | None = None) -> Usage:
        query = select(
            func.coalesce(func.sum(UsageRecord.prompt_tokens), 0),
            func.coalesce(func.sum(UsageRecord.completion_tokens), 0),
        ).where(UsageRecord.owner == owner)
        if since is not None:
            query = query.where(UsageRecord.created_at >= since)
        with self._db.session() as s:
            prompt, completion = s.execute(query).one()
        return Usage(int(prompt), int(completion))
