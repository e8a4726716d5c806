"""Security round 3 (issue 23), identity and logs: items 1, 2 (usernames), 11 and 13, reproduced
from outside against `python -m app serve` and the CLI, the way they were found.

- 1: an anonymous login whose name holds a line separator must not take the admin's audit view
  down; a damaged audit log is read around, its bad lines counted (and a hypothesis fuzz of the
  writer and reader, any Unicode in any field, garbage lines between events)
- 2: usernames compare after NFKC and case folding: no `Bob` beside `bob`, `BOB` and `ｂｏｂ` sign in
  as `bob`; migration 0008 keeps (and reports) two legacy names that differ only by case
- 11: a password typed into the username box is written nowhere (logs, audit log, database)
- 13: two instances creating the first admin at the same moment on PostgreSQL both come up, no
  traceback or password hash anywhere; no traceback from a CLI command whose reader leaves early
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loguru import logger
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, text

from app import audit as audit_log
from app.auth.login import LOGIN_NAME_KEY, bootstrap_admin
from app.auth.users import UserExists, UserService
from app.clean import username_key
from app.documents.registry import DocumentRegistry
from app.logging import add_audit_sink
from app.storage.app_keys import installation_key
from app.storage.db import HEAD_REVISION, Database, User
from tests.conftest import make_settings
from tests.fixtures.cli import ROOT, run_app
from tests.fixtures.gradio_http import run_event, signed_in
from tests.fixtures.postgres import fresh_database
from tests.fixtures.server import ADMIN, RunningServer, free_port, running_server

BOB = ("bob", "bobs-long-password")
POISON_NAMES = ["x\u2028123", "x\u2028123\u2028y", "\u2029{}", "\x1e42", "7\u0085", "8\r9", "\x1c\x1d0", "{}\u2028[]"]
TYPED_PASSWORD = "my-secret-password-123"


def add_user(data_dir: Path, name: str, password: str) -> subprocess.CompletedProcess[str]:
    return run_app(data_dir, "users", "add", name, stdin=password + "\n")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("round3-identity") / "data") as srv:
        assert add_user(srv.data_dir, *BOB).returncode == 0
        yield srv


def audit_view(server: RunningServer) -> list[list[str]]:
    """The Admin tab's view event as the admin's browser runs it (queue over HTTP): the audit rows."""
    admin = signed_in(server, *ADMIN)
    result = run_event(admin, _admin_view_index(admin), ["", ""])
    assert result.success, result.error
    audit = result.output[3]
    assert audit["headers"] == ["time", "event", "actor", "client", "target", "outcome"]
    return [list(row) for row in audit["data"]]


def _admin_view_index(client: httpx.Client) -> int:
    """The event that fills the Admin tab's views (its api name depends on the order of wiring)."""
    config = client.get("/config").json()
    elem_ids = {c["id"]: c.get("props", {}).get("elem_id") for c in config["components"]}
    for i, dep in enumerate(config["dependencies"]):
        if "admin-audit" in [elem_ids.get(o) for o in dep["outputs"]]:
            return int(dep.get("id", i))
    raise AssertionError("no event fills #admin-audit")


def audit_events(server: RunningServer) -> list[dict[str, Any]]:
    """Every event in the server's audit log, oldest first (the damaged-log test adds garbage)."""
    return list(reversed(audit_log.read(server.data_dir / "logs" / "audit.log", limit=1_000_000)))


# ---- 1. audit log poisoning ---------------------------------------------------------------------


def test_anonymous_logins_with_line_separators_leave_the_audit_view_working(server: RunningServer) -> None:
    anonymous = httpx.Client(base_url=server.url, timeout=60)
    for name in POISON_NAMES:
        refused = anonymous.post("/login", data={"username": name, "password": "whatever-password"})
        assert refused.status_code == 400
    rows = audit_view(server)
    failed = [r for r in rows if r[1] == "login" and r[5] == "failed"]
    assert len(failed) >= len(POISON_NAMES), rows
    assert not any(r[1] == "audit.unreadable" for r in rows), rows  # the writer wrote whole lines
    raw = (server.data_dir / "logs" / "audit.log").read_bytes().decode("utf-8")
    for line in raw.split("\n"):
        assert len(line.splitlines()) <= 1, repr(line)  # nothing any reader could split


def test_a_damaged_audit_log_is_read_around_and_its_bad_lines_counted(server: RunningServer) -> None:
    """Lines from an older writer or a hand edit: numbers, arrays, broken JSON, bare separators,
    invalid UTF-8, an object holding a raw U+2028. The view shows the events and the count."""
    path = server.data_dir / "logs" / "audit.log"
    garbage = [b"123", b"[1, 2]", b"null", b'"text"', b"{not json", "\u20287".encode(), b"\xff\xfe\x00", b"[" * 50_000]
    older_writer = json.dumps({"event": "legacy", "actor": "x\u2028y", "outcome": "ok"}, ensure_ascii=False)
    with open(path, "ab") as f:
        f.write(b"\n".join([*garbage, older_writer.encode(), b"\r\n"]))
        f.write(b"\n")
    rows = audit_view(server)
    assert rows[0][1] == "audit.unreadable" and rows[0][5] == f"{len(garbage)} unreadable lines skipped", rows[:3]
    # read as one event, not two fragments; the separator shown as an escape, never raw
    assert ["legacy", "x\\u2028y"] in [r[1:3] for r in rows]
    assert any(r[1] == "user.created" and r[4] == "admin" for r in rows)  # older events still there
    assert "audit log lines skipped" in (server.data_dir / "logs" / "app.log").read_text()


# Any Unicode, lone surrogates included: a name or a file name may hold anything.
ANY_TEXT = st.text(st.one_of(st.characters(), st.characters(categories=["Cs"])), max_size=40)
VALUES = st.one_of(ANY_TEXT, st.integers(), st.floats(allow_nan=False), st.booleans(), st.none())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    events=st.lists(
        st.tuples(ANY_TEXT, ANY_TEXT, ANY_TEXT, st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True), VALUES)),
        min_size=1,
        max_size=5,
    ),
    garbage=st.lists(st.one_of(ANY_TEXT, st.binary(max_size=40)), max_size=4),
)
def test_fuzz_the_audit_writer_and_reader(
    tmp_path_factory: pytest.TempPathFactory, events: list[Any], garbage: list[str | bytes]
) -> None:
    """Events written by the real writer (audit() through the loguru sink of app/logging.py), with
    garbage lines between them, come back whole and in order; the reader never raises."""
    path = tmp_path_factory.mktemp("fuzz") / "audit.log"
    sink = add_audit_sink(path)
    written = []
    try:
        for (event, actor, target, details), junk in zip(events, [*garbage, *[None] * len(events)], strict=False):
            details = {k: v for k, v in details.items() if k not in {"event", "actor", "target", "outcome", "client"}}
            audit_log.audit(event, actor, target=target, **details)
            written.append((event, actor or "-", target, {k: v for k, v in details.items() if v is not None}))
            if junk is not None:
                with open(path, "ab") as f:
                    f.write((junk if isinstance(junk, bytes) else junk.encode("utf-8", "surrogatepass")) + b"\n")
    finally:
        logger.remove(sink)
    for line in path.read_bytes().split(b"\n"):  # the writer's own lines are ASCII, one line each
        decoded = audit_log.decode(line.decode("utf-8", "replace"))
        if decoded is not None and "time" in decoded and "outcome" in decoded:
            assert line.isascii() and len(line.decode().splitlines()) == 1
    page = audit_log.read_page(path, limit=10_000)
    ours = [e for e in page.events if "time" in e and e.get("outcome") == "ok"]
    got = [(e["event"], e["actor"], e["target"], {k: e[k] for k in e.keys() - _FIXED}) for e in reversed(ours)]
    assert got == written
    total = len([line for line in path.read_bytes().split(b"\n") if line.strip()])
    assert len(page.events) + page.skipped <= total


_FIXED = {"time", "event", "actor", "client", "target", "outcome", "request_id"}


@settings(max_examples=300, deadline=None)
@given(record=st.dictionaries(ANY_TEXT, st.one_of(VALUES, st.lists(VALUES, max_size=3)), max_size=6))
def test_fuzz_encode_gives_one_line_that_decodes_to_the_same_record(record: dict[str, Any]) -> None:
    line = audit_log.encode(record)
    assert line.isascii() and line.splitlines() == [line]
    assert audit_log.decode(line) == record


@settings(max_examples=300, deadline=None)
@given(line=ANY_TEXT)
def test_fuzz_decode_never_raises(line: str) -> None:
    item = audit_log.decode(line)
    assert item is None or isinstance(item, dict)


# ---- 2. usernames: one account per name, whatever its case or width ---------------------------


def test_a_name_differing_only_by_case_or_width_is_refused_and_signs_in_as_the_stored_name(
    server: RunningServer,
) -> None:
    for spelling in ("Bob", "BOB", " bob ", "bo\u200bb"):
        refused = add_user(server.data_dir, spelling, "another-long-password")
        assert refused.returncode == 1 and "'bob' already exists" in refused.stderr, (spelling, refused.stderr)
    assert [line.split("\t")[0] for line in run_app(server.data_dir, "users", "list").stdout.splitlines()].count(
        "bob"
    ) == 1
    for typed in ("BOB", "ｂｏｂ", "Bob", "b\u200bob"):
        client = signed_in(server, typed, BOB[1])
        client.get("/logout")
    with sqlite3.connect(server.data_dir / "app.db") as db:
        names = {row[0] for row in db.execute("SELECT username FROM login_sessions")}
        assert names <= {"admin", "bob"}, names
    logins = [e for e in audit_events(server) if e["event"] in ("login", "logout") and e["outcome"] == "ok"]
    actors = {e["actor"] for e in logins}
    assert "bob" in actors and not actors & {"BOB", "ｂｏｂ", "Bob", "b\u200bob"}, actors
    rows = audit_view(server)
    assert any(r[1] == "logout" and r[2] == "bob" for r in rows)


def _database_at_0007_with_case_twins(url: str) -> Database:
    db = Database(url)
    db.migrate("0007")
    with db.engine.begin() as conn:
        for name in ("bob", "alice", "Bob", "BOB"):
            conn.execute(
                text(
                    "INSERT INTO users (username, password_hash, is_admin, disabled, created_at) "
                    "VALUES (:n, 'x', false, false, CURRENT_TIMESTAMP)"
                ),
                {"n": name},
            )
    return db


def _downgrade(db: Database, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    with db.engine.begin() as conn:
        config = Config()
        config.set_main_option("script_location", "app.storage:migrations")
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def test_migration_keeps_names_that_differ_only_by_case_and_downgrades(database_url: str, tmp_path: Path) -> None:
    db = _database_at_0007_with_case_twins(database_url)
    warnings: list[str] = []
    sink = logger.add(lambda m: warnings.append(str(m)), level="WARNING")
    try:
        assert db.migrate() == ("0007", HEAD_REVISION)  # does not fail on the existing twins
        users = UserService(db)
        with db.session() as s:
            keys = {u.username: u.username_key for u in s.scalars(select(User))}
        assert keys["bob"] == "bob" and keys["alice"] == "alice"
        assert keys["Bob"].startswith("bob\x1f") and keys["BOB"].startswith("bob\x1f")
        assert sum("differ only by case" in w for w in warnings) == 2
        assert sorted(users.case_duplicates()) == ["BOB", "Bob"]
        # the older account takes every spelling; a later twin signs in by its exact name only
        assert users.find("Bob") == "Bob" and users.find("BOB") == "BOB" and users.find("bOB") == "bob"
        with pytest.raises(UserExists):
            users.add("bOb", "a-long-password")
        warnings.clear()
        bootstrap_admin(users, make_settings(tmp_path))  # every start names them to the operator
        assert sum("'Bob' differs from an older account only by case" in w for w in warnings) == 1
        users.add("carol", "carols-long-password")  # new names get the plain key
        with db.session() as s:
            assert s.scalar(select(User.username_key).where(User.username == "carol")) == "carol"
        _downgrade(db, "0007")
        with db.engine.connect() as conn:
            columns = list(conn.execute(text("SELECT * FROM users")).keys())
            assert "username_key" not in columns
            assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 5
        assert db.migrate() == ("0007", HEAD_REVISION)  # and up again
    finally:
        logger.remove(sink)
        db.close()


# ---- 11. a password typed as the username --------------------------------------------------------


def test_a_password_typed_as_the_username_is_written_nowhere(server: RunningServer) -> None:
    anonymous = httpx.Client(base_url=server.url, timeout=60)
    refused = anonymous.post("/login", data={"username": TYPED_PASSWORD, "password": "anything-at-all"})
    assert refused.status_code == 400
    wrong = anonymous.post("/login", data={"username": "BOB", "password": TYPED_PASSWORD})  # a real user
    assert wrong.status_code == 400
    time.sleep(1)  # let the log sinks write
    needle = TYPED_PASSWORD.encode()
    for path in [server.log_file, *server.data_dir.rglob("*")]:
        if path.is_file():
            assert needle not in path.read_bytes(), path  # app.log, audit.log, stdout, the database
    failed = [e for e in audit_events(server) if e["event"] == "login" and e["outcome"] == "failed"]
    assert failed[-1]["actor"] == "bob"  # an existing user: the stored name
    assert any(e["actor"].startswith("unknown:") and len(e["actor"]) == 20 for e in failed)
    # The pseudonym is keyed with the installation's own key (in the database), so a guessed
    # password cannot be checked against the logs alone: not the plain SHA-256 of the name.
    typed_key = username_key(TYPED_PASSWORD).encode()
    actors = {e["actor"] for e in failed}
    assert f"unknown:{hashlib.sha256(typed_key).hexdigest()[:12]}" not in actors
    db = Database(f"sqlite:///{server.data_dir / 'app.db'}")
    try:
        key = installation_key(db, LOGIN_NAME_KEY)
    finally:
        db.close()
    assert f"unknown:{hmac.new(key, typed_key, hashlib.sha256).hexdigest()[:12]}" in actors
    assert "login failed user=unknown:" in (server.data_dir / "logs" / "app.log").read_text()
    assert "login failed user=bob" in server.log()


def test_the_installation_key_is_made_once_for_all_instances_and_downgrades(database_url: str) -> None:
    """The key of the unknown-name pseudonym: eight instances asking at once on a fresh database all
    get the one that was stored; it stays after a restart; migration 0009 goes down and up."""
    dbs = [Database(database_url) for _ in range(8)]
    try:
        dbs[0].migrate()
        with ThreadPoolExecutor(8) as pool:
            keys = set(pool.map(lambda db: installation_key(db, LOGIN_NAME_KEY), dbs))
        assert len(keys) == 1 and len(next(iter(keys))) == 32
        assert installation_key(dbs[1], "another-key") not in keys
        _downgrade(dbs[0], "0008")
        with dbs[0].engine.connect() as conn:
            assert "app_keys" not in sa_inspect(conn).get_table_names()
        assert dbs[0].migrate() == ("0008", HEAD_REVISION)
        assert installation_key(dbs[0], LOGIN_NAME_KEY) not in keys  # the downgrade dropped it
    finally:
        for db in dbs:
            db.close()


# ---- 13. two instances creating the first admin; tracebacks --------------------------------------


def _serve(data_dir: Path, port: int, database: str) -> subprocess.Popen[bytes]:
    """`python -m app serve` with the first admin in its environment; its output in data_dir/out.log."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("APP_")}
    env.update(
        {
            "APP_DATA_DIR": str(data_dir),
            "APP_CONFIG": str(ROOT / "config.yaml"),
            "APP_SECRETS_DIR": str(data_dir / "no-secrets"),
            "APP_DATABASE__URL": database,
            "APP_ADMIN_USERNAME": ADMIN[0],
            "APP_ADMIN_PASSWORD": ADMIN[1],
            "HF_HUB_OFFLINE": "1",
            "GRADIO_ANALYTICS_ENABLED": "False",
            "PYTHONUNBUFFERED": "1",
        }
    )
    data_dir.mkdir(parents=True)
    with open(data_dir / "out.log", "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _output(data_dir: Path) -> str:
    return (data_dir / "out.log").read_text(errors="replace")


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_two_instances_creating_the_first_admin_at_once_both_come_up(tmp_path: Path) -> None:
    """Both instances see no user, both insert the admin: PostgreSQL holds both inserts until the
    two are waiting (a table lock taken by the test), so the race happens every time."""
    with fresh_database() as pg:
        assert run_app(tmp_path / "migrate", "db", "upgrade", env={"APP_DATABASE__URL": pg}).returncode == 0
        dsn = pg.replace("postgresql+psycopg://", "postgresql://")
        ports = [free_port(), free_port()]
        while ports[1] == ports[0]:
            ports[1] = free_port()
        dirs = [tmp_path / "i0", tmp_path / "i1"]
        with psycopg.connect(dsn) as lock:
            lock.execute("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")  # reads pass, inserts wait
            procs = [_serve(d, port, pg) for d, port in zip(dirs, ports, strict=True)]
            try:
                deadline = time.monotonic() + 120
                with psycopg.connect(dsn, autocommit=True) as watch:
                    while True:
                        waiting = watch.execute(
                            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                            "AND wait_event_type = 'Lock' AND query ILIKE 'INSERT INTO users%'"
                        ).fetchone()
                        if waiting and waiting[0] == 2:
                            break
                        assert all(p.poll() is None for p in procs), [_output(d)[-3000:] for d in dirs]
                        assert time.monotonic() < deadline, "the two instances never both tried to create the admin"
                        time.sleep(0.2)
                lock.rollback()  # both inserts go: one creates the admin, the other collides
                deadline = time.monotonic() + 180
                while not all(_ready(port) for port in ports):
                    exited = [d for p, d in zip(procs, dirs, strict=True) if p.poll() is not None]
                    assert not exited, _output(exited[0])[-4000:]
                    assert time.monotonic() < deadline, "an instance did not become ready"
                    time.sleep(0.5)
            finally:
                for p in procs:
                    p.terminate()
                for p in procs:
                    p.wait(30)
        outputs = [_output(d) for d in dirs]
        for out in outputs:
            assert "Traceback" not in out and "$argon2" not in out and "UniqueViolation" not in out, out[-4000:]
        assert sum("the admin was created by another instance" in out for out in outputs) == 1, outputs
        with psycopg.connect(dsn) as conn:
            assert conn.execute("SELECT username, is_admin FROM users").fetchall() == [(ADMIN[0], True)]


def test_sql_parameters_never_reach_an_error_message() -> None:
    with fresh_database() as pg:
        db = Database(pg)
        try:
            db.migrate()
            UserService(db).add("admin", "admins-long-password", is_admin=True)
            with pytest.raises(Exception) as caught, db.session() as s:
                s.add(User(username="admin", username_key="admin2", password_hash="$argon2id$secret-hash"))
        finally:
            db.close()
    assert "UniqueViolation" in repr(caught.value) and "secret-hash" not in str(caught.value)


def test_a_reader_that_leaves_early_gets_no_traceback(tmp_path: Path) -> None:
    """`documents list --json | head -1`: the rest of the output has nowhere to go."""
    data = tmp_path / "data"
    assert add_user(data, "alice", "alices-long-password").returncode == 0
    db = Database(f"sqlite:///{data / 'app.db'}")
    registry = DocumentRegistry(db)
    for i in range(1500):  # far more than a pipe holds, so writing blocks until the reader leaves
        registry.create("alice", f"report {i:04d} with a long enough name to fill the pipe.pdf", f"{i:064x}", 1, None)
    db.close()
    env = {
        "APP_DATA_DIR": str(data),
        "APP_CONFIG": str(ROOT / "config.yaml"),
        "PATH": "/usr/bin:/bin",
        "APP_SECRETS_DIR": str(data / "none"),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "documents", "list", "--user", "alice", "--json"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # `head -1` is done
    stderr = proc.stderr.read().decode()
    code = proc.wait(timeout=120)
    assert json.loads(first)["name"].startswith("report")
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr and stderr == "", stderr
    assert code == 141


def test_an_unexpected_failure_is_one_line_on_stderr_and_a_traceback_in_app_log(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert add_user(data, "alice", "alices-long-password").returncode == 0
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    done = run_app(data, "backup", str(blocker / "backup"))
    assert done.returncode == 1, done
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert "Traceback" in (data / "logs" / "app.log").read_text()
