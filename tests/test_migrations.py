"""Alembic migrations on SQLite and PostgreSQL: a fresh database, a database made by the release
before migrations existed, two processes starting at once, and the `db` command."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from app.storage.db import HEAD_REVISION, Base, Database
from tests.fixtures.cli import ROOT, run_app
from tests.fixtures.postgres import fresh_database

HEAD = Database.head_revision()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'app.db'}"
    else:
        with fresh_database() as pg:
            yield pg


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
