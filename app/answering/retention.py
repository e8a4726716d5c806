"""Conversation retention (`retention.conversations_days`): conversations not updated for that many
days are deleted with their messages and feedback, once a day, the count in the audit log
(`conversations.expired`, actor `system`).

Several instances share the database, so each day's run is claimed there first (`claim_day`): a
row of app_keys per task holding the last day it ran, moved to today by a conditional UPDATE that
only one instance can win (SQLite serialises writers; PostgreSQL re-checks the condition after the
winner commits). An instance that claims the day and dies before finishing leaves the rest to the
next day's run, which deletes everything past the cut-off anyway.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from loguru import logger
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from app.audit import audit
from app.storage.db import AppKey, Conversation, Database, Feedback, Message, utcnow

TASK = "retention.conversations"
BATCH = 500  # conversations deleted per transaction: a long backlog never holds one long lock
CHECK_EVERY_S = 3600.0  # how often an instance asks whether today's run is still to do


def claim_day(db: Database, task: str, day: str) -> bool:
    """True for the one caller (of every instance) that claims `task` for `day` (YYYY-MM-DD)."""
    name = f"daily:{task}"
    try:
        with db.session() as s:
            if s.scalar(select(AppKey.name).where(AppKey.name == name)) is None:
                s.add(AppKey(name=name, value=day))
                return True
    except IntegrityError:
        pass  # another instance made the row a moment ago (for today): theirs
    with db.session() as s:
        moved = s.execute(update(AppKey).where(AppKey.name == name, AppKey.value < day).values(value=day))
        return bool(getattr(moved, "rowcount", 0))


class ConversationRetention:
    def __init__(self, db: Database, days: int | None, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self.days = days
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def expire(self) -> int:
        """Delete the conversations not updated for `days` days now; their count (0 when off)."""
        if not self.days:
            return 0
        cutoff = self._clock() - timedelta(days=self.days)
        deleted = 0
        while True:
            with self._db.session() as s:
                ids = list(s.scalars(select(Conversation.id).where(Conversation.updated_at < cutoff).limit(BATCH)))
                if not ids:
                    break
                # feedback, messages, then the conversations, whatever the database's cascades
                s.execute(delete(Feedback).where(Feedback.conversation_id.in_(ids)))
                s.execute(delete(Message).where(Message.conversation_id.in_(ids)))
                s.execute(delete(Conversation).where(Conversation.id.in_(ids)))
            deleted += len(ids)
        audit("conversations.expired", "system", count=deleted, days=self.days)
        logger.info("conversations expired count={} days={}", deleted, self.days)
        return deleted

    def run_if_due(self) -> int | None:
        """Today's run, when no instance has done it yet: the count; None when not due or off."""
        if not self.days:
            return None
        day = datetime.now(UTC).date().isoformat()
        if not claim_day(self._db, TASK, day):
            return None
        return self.expire()

    def start(self, every_s: float = CHECK_EVERY_S) -> None:
        """Check from a daemon thread, at once and then every `every_s` seconds (nothing when off)."""
        if not self.days or self._thread is not None:
            return

        def loop() -> None:
            while True:
                try:
                    self.run_if_due()
                except Exception:  # the database away for a moment: the next check tries again
                    logger.exception("conversation retention failed; tried again in {} s", every_s)
                if self._stop.wait(every_s):
                    return

        self._thread = threading.Thread(target=loop, name="retention", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
