"""Alembic migrations on SQLite and PostgreSQL: a fresh database, a database made by the release
before migrations existed, two processes starting at once, and the `db` command."""

from __future__ import annotations

import subprocess
import sys
from contextlib import nullcontext
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from app.storage.db import HEAD_REVISION, Base, Database
from tests.fixtures.cli import ROOT, run_app
from tests.fixtures.postgres import fresh_database

HEAD = Database.head_revision()


@pytest.fixture
def url(database_url: str) -> str:
    return database_url


def _schema_differences(db: Database) -> list[object]:
    with db.engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata))


def test_a_fresh_database_gets_exactly_the_models_schema(url: str) -> None:
    db = Database(url)
    try:
        assert db.migrate() == (None, HEAD)
        assert _schema_differences(db) == []  # every model change comes with a migration
        assert db.migrate() == (HEAD, HEAD)  # idempotent
    finally:
        db.close()


def test_opening_migrates_an_older_database_and_leaves_a_current_one_alone(url: str) -> None:
    """create_all (run by every command) upgrades a database one release behind; one already at
    the head is recognised by plain SQL (HEAD_REVISION must follow the newest migration file)."""
    assert HEAD_REVISION == HEAD
    db = Database(url)
    try:
        db.migrate(str(int(HEAD) - 1).zfill(4))
        db.create_all()
        assert db.current_revision() == HEAD
        assert _schema_differences(db) == []
        with db.engine.begin() as conn:  # a revision this release does not know: Alembic is asked
            conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        with pytest.raises(Exception, match="9999"):
            db.create_all()
    finally:
        db.close()


def test_a_database_from_before_migrations_is_upgraded_in_place(url: str) -> None:
    db = Database(url)
    try:
        db.migrate("0001")  # the tables the earlier release made with create_all ...
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE alembic_version"))  # ... which kept no version
            conn.execute(
                text(
                    "INSERT INTO users (username, password_hash, is_admin, disabled, created_at) "
                    "VALUES ('alice', 'x', true, false, CURRENT_TIMESTAMP)"
                )
            )
        assert db.migrate() == (None, HEAD)
        tables = set(inspect(db.engine).get_table_names())
        assert {"login_sessions", "login_failures", "quota_counters", "answer_cache"} <= tables
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT username FROM users")).scalar() == "alice"  # data kept
        assert _schema_differences(db) == []
    finally:
        db.close()


def test_instances_starting_together_migrate_once(tmp_path: Path) -> None:
    with fresh_database() as pg:
        env = {"APP_DATABASE__URL": pg}
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "app", "db", "upgrade"],
                cwd=ROOT,
                env={
                    "APP_DATA_DIR": str(tmp_path / f"d{i}"),
                    "APP_CONFIG": str(ROOT / "config.yaml"),
                    "PATH": "/usr/bin:/bin",
                    **env,
                },
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(3)
        ]
        outputs = [p.communicate(timeout=120) for p in procs]
        assert all(p.returncode == 0 for p in procs), outputs
        changed = [out for out, _ in outputs if "(was None)" in out]
        assert len(changed) == 1, outputs  # exactly one process migrated, the others found it done
        current = run_app(tmp_path / "d0", "db", "current", env=env)
        assert current.stdout.strip() == HEAD


# The tables each revision adds (0007, 0008, 0011, 0014 add a column each, 0010 a column and a table;
# see _COLUMNS_ADDED).
_TABLES_ADDED = {
    "0001": {"users", "documents", "conversations", "messages", "usage"},
    "0002": {"answer_cache", "login_failures", "quota_counters", "user_quotas", "login_sessions"},
    "0003": {"ingest_jobs"},
    "0004": {"index_state"},
    "0005": {"feedback"},
    "0006": {"quota_holds"},
    "0007": set(),
    "0008": set(),
    "0009": {"app_keys"},
    "0010": {"page_words"},
    "0011": set(),
    "0012": {"access_tokens"},
    "0013": {"groups", "group_members"},
    "0014": set(),
}
_COLUMNS_ADDED = {
    "0007": ("ingest_jobs", "request_id"),
    "0008": ("users", "username_key"),
    "0010": ("documents", "ocr_pages"),
    "0011": ("messages", "claims"),
    "0014": ("login_sessions", "method"),
}
_REVISIONS = sorted(_TABLES_ADDED)


def _snapshot(db: Database) -> dict[str, object]:
    """Tables, columns (type, nullable), indexes, unique constraints and foreign keys, as reflected."""
    insp = inspect(db.engine)
    shape: dict[str, object] = {}
    for table in sorted(set(insp.get_table_names()) - {"alembic_version"}):
        shape[table] = {
            "columns": {c["name"]: (str(c["type"]), c["nullable"]) for c in insp.get_columns(table)},
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in insp.get_indexes(table)
            ),
            "unique": sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(table)),
            "foreign_keys": sorted(
                (tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]))
                for f in insp.get_foreign_keys(table)
            ),
        }
    return shape


def _expected_tables(revision: str | None) -> set[str]:
    return set().union(*(_TABLES_ADDED[r] for r in _REVISIONS if revision and r <= revision))


def _one_row_in_every_table(db: Database) -> None:
    """One row per table at the head, values chosen so that every foreign key finds its row."""
    import datetime as dt

    from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Integer

    def value(column: object) -> object:
        kind = column.type  # type: ignore[attr-defined]
        if isinstance(kind, Boolean):
            return False
        if isinstance(kind, (Integer, BigInteger)):
            return 1
        if isinstance(kind, DateTime):
            return dt.datetime(2024, 1, 1)
        if isinstance(kind, JSON):
            return {"k": 1}
        return "v"

    with db.engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            row = {c.name: value(c) for c in table.columns}
            if table.name == "users":
                row |= {"username": "Alice", "username_key": "alice"}
            conn.execute(table.insert().values(**row))


def _step(db: Database, revision: str) -> None:
    """Up through the app's own path; down (no command offers it) the way `migrate` runs a
    migration: foreign keys off on SQLite, one transaction."""
    if revision != "base" and revision > (db.current_revision() or ""):
        db.migrate(revision)
        return
    from alembic import command
    from alembic.config import Config

    with db.engine.connect() as conn:
        Database._sqlite_foreign_keys(conn, on=False)
        with conn.begin():
            config = Config()
            config.set_main_option("script_location", "app.storage:migrations")
            config.attributes["connection"] = conn
            command.downgrade(config, revision)
        Database._sqlite_foreign_keys(conn, on=True)


def _check(db: Database, revision: str | None, reference: dict[str | None, dict[str, object]], rows: bool) -> None:
    shape = _snapshot(db)
    assert set(shape) == _expected_tables(revision), revision
    for rev, (table, column) in _COLUMNS_ADDED.items():
        if table in shape:
            present = column in shape[table]["columns"]  # type: ignore[index]
            assert present == (revision is not None and revision >= rev), (revision, table, column)
    # ... and exactly the shape a database upgraded to that revision has (indexes, keys, types)
    assert shape == reference[revision], revision
    assert db.current_revision() == revision
    if db.engine.dialect.name == "sqlite":  # turned off for the migration only
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    if rows:
        with db.engine.connect() as conn:
            for table in shape:
                assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 1, (revision, table)
            if "users" in shape:
                assert conn.execute(text("SELECT username FROM users")).scalar() == "Alice"


def test_every_migration_downgrades_to_the_schema_of_its_revision_keeping_the_rows(url: str) -> None:
    """Head with a row in every table, down one revision at a time to base, up again: at each
    step the tables, columns, indexes and keys are those of a database upgraded to that revision,
    and the rows of the tables that revision keeps are still there."""
    assert _REVISIONS[-1] == HEAD  # a new migration is added to _TABLES_ADDED
    reference: dict[str | None, dict[str, object]] = {}
    sqlite_reference = nullcontext(url.replace("app.db", "reference.db"))
    with sqlite_reference if url.startswith("sqlite") else fresh_database() as reference_url:
        ref = Database(reference_url)
        try:
            reference[None] = _snapshot(ref)
            for revision in _REVISIONS:
                ref.migrate(revision)
                reference[revision] = _snapshot(ref)
        finally:
            ref.close()

    db = Database(url)
    try:
        db.migrate()
        _one_row_in_every_table(db)
        _check(db, HEAD, reference, rows=True)
        for down in ["0008", "0007"]:
            _step(db, down)
            _check(db, down, reference, rows=True)
        _step(db, HEAD)  # up again with the rows: 0008 recomputes each user's key
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT username_key FROM users")).scalar() == "alice"
            assert conn.execute(text("SELECT count(*) FROM app_keys")).scalar() == 0  # 0008 dropped it
            conn.execute(text("INSERT INTO app_keys (name, value, created_at) VALUES ('k', 'v', CURRENT_TIMESTAMP)"))
            assert conn.execute(text("SELECT count(*) FROM page_words")).scalar() == 0  # 0010 dropped it
            conn.execute(text("INSERT INTO page_words (doc_id, page, words) VALUES ('d', 1, '[]')"))
            assert conn.execute(text("SELECT count(*) FROM access_tokens")).scalar() == 0  # 0012 dropped it
            conn.execute(
                text(
                    "INSERT INTO access_tokens (id, user_id, name, prefix, token_hash, scopes, created_at, expires_at)"
                    " VALUES ('t', 1, '', 'p', 'h', 'read', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            assert conn.execute(text("SELECT count(*) FROM group_members")).scalar() == 0  # 0013 dropped it
            conn.execute(
                text("INSERT INTO groups (id, name, name_key, created_at) VALUES ('g', 'G', 'g', CURRENT_TIMESTAMP)")
            )
            conn.execute(
                text(
                    "INSERT INTO group_members (group_id, user_id, role, source, added_at)"
                    " VALUES ('g', 1, 'reader', 'manual', CURRENT_TIMESTAMP)"
                )
            )
        _check(db, HEAD, reference, rows=True)
        for down in [*reversed(_REVISIONS[:-1]), "base"]:
            _step(db, down)
            _check(db, None if down == "base" else down, reference, rows=True)
        for up in _REVISIONS:
            _step(db, up)
            _check(db, up, reference, rows=False)
        assert _schema_differences(db) == []
    finally:
        db.close()
