"""The app database (users, documents, conversations, usage, quotas, answer cache) through SQLAlchemy.

SQLite in the data dir by default; any SQLAlchemy URL (e.g. postgresql+psycopg://) via database.url.

Why this module is about 450 lines: it is the schema and its keeper, which change together. Half of
it is the fifteen table classes, each a few columns with the comment that says what a row means;
the other half is `Database`: the engine, the unit of work, and the migrations that bring a
database to HEAD_REVISION, the revision these classes describe (a schema change edits both halves
and adds a migration). Every service imports its rows and `Database` from here.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from app import metrics
from app.clean import username_key
from app.errors import ServiceUnavailable

_MIGRATION_LOCK = 7_301_946_011  # any constant; the advisory lock held while migrating
# The newest migration in app/storage/migrations (tests/test_migrations.py checks it against
# Alembic's own head). A database already there opens without importing Alembic, which costs every
# command about 0.15 s before it does anything.
HEAD_REVISION = "0014"


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def new_id() -> str:
    return uuid.uuid4().hex


def _username_key(context: Any) -> str:
    """The key of a row inserted without one (a backup made before the key existed)."""
    return username_key(context.get_current_parameters()["username"])


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    # app/clean.py username_key(username): unique, so no `Bob` beside `bob` (migration 0008 explains
    # the key it gives a legacy name that differs from an older one only by case).
    username_key: Mapped[str] = mapped_column(String(128), unique=True, index=True, default=_username_key)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class AppKey(Base):
    """Random keys made once per installation and shared by every instance (app/storage/app_keys.py),
    e.g. the key of the pseudonym a failed login for an unknown name is logged under."""

    __tablename__ = "app_keys"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class LoginSession(Base):
    """A signed-in browser. Only the SHA-256 of the cookie's token is stored, so a copy of the
    database opens no session; every instance sharing the database sees the same sessions."""

    __tablename__ = "login_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    username: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # how the browser signed in: password | oidc | hf | header (migration 0014)
    method: Mapped[str] = mapped_column(String(16), default="password", server_default="password")


class LoginFailure(Base):
    """One checked, failed login; rows older than the throttle's window are deleted."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class IngestJob(Base):
    """An uploaded file waiting for (or being given) ingestion. Any instance's worker may claim it;
    the claim is a lease that the worker renews, so a job whose worker died is taken over."""

    __tablename__ = "ingest_jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    # queued -> running -> done | failed
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    stage: Mapped[str] = mapped_column(String(16), default="queued")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True, index=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the upload's, for the logs
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class IndexState(Base):
    """Which Qdrant collection an alias (qdrant.collection) points at, and how it was built."""

    __tablename__ = "index_state"
    alias: Mapped[str] = mapped_column(String(128), primary_key=True)
    collection: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Document(Base):
    __tablename__ = "documents"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    chunks: Mapped[int] = mapped_column(Integer, default=0)
    # queued -> indexing -> ready | failed; only "ready" documents are ever searched.
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    replaces: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ocr_pages: Mapped[int] = mapped_column(Integer, default=0)  # pages whose text was recognised from their image
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class PageWords(Base):
    """The recognised words of one page of a document and their boxes, to highlight a cited passage
    on the page's image. No foreign key: a backup holds ready documents only, and the registry
    deletes a document's words with it."""

    __tablename__ = "page_words"
    doc_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    page: Mapped[int] = mapped_column(Integer, primary_key=True)
    words: Mapped[str] = mapped_column(Text)  # JSON: [[text, x0, y0, x1, y1], ...], fractions of the page


class Conversation(Base):
    __tablename__ = "conversations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Message(Base):
    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    citations: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    # an answer's claim checks: [{"text", "citations", "support", "reason"}]; null when not checked
    claims: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Feedback(Base):
    """A user's thumbs up (+1) or down (-1) on one of their answers, with what an operator needs to
    see why: the question, the sources shown and the model. One row per answer (a new rating replaces it)."""

    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    conversation_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int] = mapped_column(Integer, ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    model: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class UsageRecord(Base):
    __tablename__ = "usage"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # chat | condense | embed
    model: Mapped[str] = mapped_column(String(128))
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class QuotaHold(Base):
    """One reservation still open on a counter. Settling deletes it; a hold whose process died
    (killed mid-answer) outlives `expires_at` and is given back by the next reservation of its owner."""

    __tablename__ = "quota_holds"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    metric: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(10))
    amount: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class QuotaCounter(Base):
    """What a user has used (and reserved) of one allowance in one period ('2026-01-31' or '2026-01').

    Reservations are conditional UPDATEs of `used` on this row, so two processes sharing the
    database can never both take the last unit."""

    __tablename__ = "quota_counters"
    owner: Mapped[str] = mapped_column(String(64), primary_key=True)
    metric: Mapped[str] = mapped_column(String(32), primary_key=True)  # questions | tokens | cost_micro | pages
    period: Mapped[str] = mapped_column(String(10), primary_key=True)
    used: Mapped[int] = mapped_column(BigInteger, default=0)


class UserQuota(Base):
    """An admin's per-user limits: a key present overrides the config (null there = unlimited)."""

    __tablename__ = "user_quotas"
    owner: Mapped[str] = mapped_column(String(64), primary_key=True)
    limits: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class CachedAnswer(Base):
    """An answer kept for a repeated question; the key covers the question, documents and model."""

    __tablename__ = "answer_cache"
    owner: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    answer: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class Database:
    """Owns the engine; `session()` is a unit of work that commits or rolls back."""

    def __init__(self, url: str, pool_size: int = 5, timeout_s: float = 30) -> None:
        """`pool_size`: connections kept open (a server process uses server.concurrency + a few);
        as many again may be opened for bursts. `timeout_s`: how long a statement waits for
        SQLite's write lock, or a request for a pooled connection, before it fails."""
        is_sqlite = url.startswith("sqlite")
        pool = {} if is_sqlite else {"pool_size": pool_size, "max_overflow": pool_size, "pool_timeout": timeout_s}
        self.engine: Engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": timeout_s} if is_sqlite else {},
            pool_pre_ping=not is_sqlite,
            hide_parameters=True,  # a failed statement's error never shows its values (a password hash)
            **pool,
        )
        if is_sqlite:
            _private_sqlite_file(self.engine.url.database)
            event.listen(self.engine, "connect", _sqlite_pragmas)
        event.listen(self.engine, "before_cursor_execute", _started)
        event.listen(self.engine, "after_cursor_execute", _finished)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def create_all(self) -> None:
        """Bring the schema to the newest migration (the name predates migrations)."""
        if not self._at_head():
            self.migrate()

    def _at_head(self) -> bool:
        """Whether the database is at HEAD_REVISION, asked with plain SQL; any doubt (no table,
        another revision, an error) says no, and `migrate` then looks properly."""
        try:
            with self.engine.connect() as conn:
                revisions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        except SQLAlchemyError:
            return False
        return list(revisions) == [HEAD_REVISION]

    def migrate(self, revision: str = "head") -> tuple[str | None, str]:
        """Run the Alembic migrations up to `revision`; one process at a time (a PostgreSQL advisory
        lock, or a lock file beside an SQLite database), so instances starting together never race.
        Returns the revision before and after, as seen while holding the lock."""
        from alembic import command
        from alembic.config import Config
        from alembic.migration import MigrationContext

        try:
            with self._migration_lock(), self.engine.connect() as conn:
                # SQLite alters a table by copying it and dropping the old one; with foreign keys on,
                # that drop deletes the rows referring to it (0008 on users signed everyone out). The
                # pragma is ignored inside a transaction: set before it, restored after.
                self._sqlite_foreign_keys(conn, on=False)
                try:
                    with conn.begin():
                        config = Config()
                        config.set_main_option("script_location", "app.storage:migrations")
                        config.attributes["connection"] = conn
                        before = MigrationContext.configure(conn).get_current_revision()
                        if before is None:
                            existing = set(inspect(conn).get_table_names())
                            if set(Base.metadata.tables) <= existing:
                                command.stamp(config, "head")  # made by create_all, as this version would
                            elif "users" in existing:
                                command.stamp(config, "0001")  # made by a release from before migrations
                        command.upgrade(config, revision)
                        current = MigrationContext.configure(conn).get_current_revision()
                finally:
                    self._sqlite_foreign_keys(conn, on=True)
        except SQLAlchemyError as e:
            raise ServiceUnavailable(f"the database is not reachable ({type(e).__name__})") from e
        return before, str(current)

    @staticmethod
    def _sqlite_foreign_keys(conn: Connection, on: bool) -> None:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
            conn.commit()

    @staticmethod
    def head_revision() -> str:
        """The newest migration this version of the app knows."""
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        config = Config()
        config.set_main_option("script_location", "app.storage:migrations")
        return str(ScriptDirectory.from_config(config).get_current_head())

    @staticmethod
    def known_revisions() -> set[str]:
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        config = Config()
        config.set_main_option("script_location", "app.storage:migrations")
        return {r.revision for r in ScriptDirectory.from_config(config).walk_revisions()}

    def current_revision(self) -> str | None:
        from alembic.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    @contextmanager
    def _migration_lock(self) -> Iterator[None]:
        dialect = self.engine.dialect.name
        if dialect == "postgresql":
            with self.engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK})
        elif dialect == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
            import fcntl

            with open(f"{self.engine.url.database}.migrate-lock", "a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
        else:
            yield

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work. A database that is gone, locked past `timeout_s` or out of connections
        raises ServiceUnavailable (a message for users), whatever the statement was."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except (OperationalError, InterfaceError, PoolTimeout) as e:
            _rollback_quietly(session)
            raise ServiceUnavailable(f"the database is unavailable or busy ({_reason(e)}); please try again") from e
        except Exception:
            _rollback_quietly(session)
            raise
        finally:
            session.close()

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def close(self) -> None:
        self.engine.dispose()


def _rollback_quietly(session: Session) -> None:
    with contextlib.suppress(SQLAlchemyError):  # the connection is gone too: nothing to undo
        session.rollback()


def _reason(error: Exception) -> str:
    text = str(getattr(error, "orig", None) or error).lower()
    if "locked" in text or "busy" in text:
        return "locked"
    if isinstance(error, PoolTimeout):
        return "no free connection"
    return "unreachable"


def _private_sqlite_file(path: str | None) -> None:
    """Create the database file owner-only (0600); SQLite gives its -wal/-shm files the same mode."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)


def _started(conn: Any, _cursor: Any, _statement: Any, _params: Any, _context: Any, _many: Any) -> None:
    conn.info.setdefault("pdfqa_started", []).append(time.perf_counter())


def _finished(conn: Any, _cursor: Any, _statement: Any, _params: Any, _context: Any, _many: Any) -> None:
    started = conn.info.get("pdfqa_started")
    if started:
        metrics.DB_SECONDS.observe(time.perf_counter() - started.pop())


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
