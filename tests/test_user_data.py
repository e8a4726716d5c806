"""Each person's data (issue 31): the export archive of one user (their document's original bytes,
a conversation with its citation, their feedback and usage; another user's data absent; a hostile
document name kept inside the archive), `users export` and `users remove --dry-run` through the real
CLI, deleting one's own account (wrong password refused, right password removes everything and ends
the sessions; the last admin refused; a single sign-on account confirms with its name), and
conversation retention run once a day by one of two instances sharing PostgreSQL, audited with its
count. Real PDFs, the real embedding model, SQLite and the PostgreSQL server of this machine."""

from __future__ import annotations

import json
import threading
import time
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from loguru import logger
from sqlalchemy import func, select, update

import app.logging as logging_module
from app.admin.data_export import safe_name
from app.admin.own_account import OwnAccount
from app.answering.retention import ConversationRetention
from app.auth.groups import GroupService
from app.auth.tokens import TokenService
from app.container import Container
from app.domain import Usage
from app.errors import AuthError
from app.logging import setup_logging
from app.storage.db import Conversation, Database, Message, utcnow
from tests.conftest import DATA, container_for, make_settings
from tests.fixtures.cli import run_app
from tests.fixtures.postgres import fresh_database

PDF = DATA / "jbtxdoc.pdf"  # 14 pages: a real document, quick to index
HOSTILE = "../../../etc/evil\\..\\C:\\win\x07dows/CON.pdf"


@pytest.fixture
def audit_file(tmp_path: Path) -> Iterator[Path]:
    logging_module._configured = False
    path = tmp_path / "audit" / "audit.log"
    setup_logging(level="WARNING", log_file=None, audit_file=path)
    yield path
    logger.remove()
    logging_module._configured = False


@pytest.fixture
def workspace(database_url: str, tmp_path: Path, local_embedder: object) -> Iterator[Container]:
    """alice: a real PDF, a conversation citing it, feedback, usage; bob: his own of each."""
    from app.config import DatabaseSettings

    settings = make_settings(tmp_path / "data")
    settings.database = DatabaseSettings(url=database_url)
    c = container_for(settings, local_embedder)  # type: ignore[arg-type]
    c.users.add("alice", "alices-long-password")
    c.users.add("bob", "bobs-long-password")
    assert c.ingestion.ingest_file("alice", PDF).outcome == "ingested"
    assert c.ingestion.ingest_file("bob", PDF, name="bobs-secret-plans.pdf").outcome == "ingested"
    for owner, question in (("alice", "What is jBibTeX?"), ("bob", "bobs private question zebra")):
        [doc] = c.registry.list(owner)
        conv = c.conversations.create(owner, question)
        citation = {"number": 1, "doc_id": doc.id, "file": doc.name, "page": 2, "page_label": "2", "score": 0.9}
        citation["text"] = f"quoted passage of {owner}"
        c.conversations.append(owner, conv.id, question, f"An answer for {owner} [1].", [citation])
        c.feedback.rate(owner, conv.id, 1, -1 if owner == "alice" else 1)
        c.usage.record(owner, "chat", "gpt-4o-mini", Usage(120, 30))
    yield c
    c.close()


def test_the_export_holds_all_of_the_users_data_and_nothing_of_anyone_else(
    workspace: Container, tmp_path: Path
) -> None:
    c = workspace
    [doc] = c.registry.list("alice")
    c.registry.update(doc.id, name=HOSTILE)  # a name as hostile as a database row can hold
    TokenService(c.db).create("alice", ["ask"], "30d", name="laptop", actor="alice")
    GroupService(c.db).add("Sales")
    GroupService(c.db).add_member("Sales", "alice", "editor")
    target = tmp_path / "alice.zip"

    summary = c.data_export.write("alice", target)

    assert (summary.documents, summary.originals, summary.conversations, summary.messages) == (1, 1, 1, 2)
    assert summary.feedback == 1 and summary.usage_records == 1 and summary.missing_originals == []
    with zipfile.ZipFile(target) as zf:
        names = zf.namelist()
        for name in names:  # nothing can land outside the folder it is extracted into
            assert not name.startswith("/") and "\\" not in name and ":" not in name
            assert ".." not in name.split("/") and all(ord(ch) >= 32 for ch in name), name
        documents = json.loads(zf.read("documents.json"))
        assert documents[0]["name"] == HOSTILE and documents[0]["original"] == "documents/_CON.pdf"
        assert zf.read(documents[0]["original"]) == PDF.read_bytes()  # the original, byte for byte
        [conv] = json.loads(zf.read("conversations.json"))
        assert [m["role"] for m in conv["messages"]] == ["user", "assistant"]
        [cited] = conv["messages"][1]["citations"]
        assert cited["doc_id"] == doc.id and cited["text"] == "quoted passage of alice"
        [readable] = [n for n in names if n.startswith("conversations/") and n.endswith(".md")]
        text = zf.read(readable).decode()
        assert "What is jBibTeX?" in text and "quoted passage of alice" in text and "page 2" in text
        assert json.loads(zf.read("feedback.json"))[0]["rating"] == -1
        assert json.loads(zf.read("usage.json"))[0]["prompt_tokens"] == 120
        account = json.loads(zf.read("account.json"))
        assert account["groups"][0]["group"] == "Sales" and account["groups"][0]["role"] == "editor"
        assert account["access_tokens"][0]["name"] == "laptop" and "token_hash" not in account["access_tokens"][0]
        manifest = json.loads(zf.read("manifest.json"))
        assert manifest["user"] == "alice" and manifest["originals"] == 1
        everything = b"".join(zf.read(n) for n in names if not n.startswith("documents/"))
        extracted = tmp_path / "out"
        zf.extractall(extracted)
    assert all(p.resolve().is_relative_to(extracted.resolve()) for p in extracted.rglob("*"))
    for secret in (b"bob", b"zebra", b"bobs-secret-plans"):
        assert secret not in everything
    assert not list(tmp_path.glob(".alice.zip.*"))  # no partial file left


def test_entry_names_are_made_safe() -> None:
    assert safe_name("../../x.pdf", "id1", ".pdf") == "x.pdf"
    assert safe_name("..", "id1", ".pdf") == "id1.pdf"
    assert safe_name("C:\\Windows\\system32\\a.pdf", "id1", ".pdf") == "a.pdf"
    assert safe_name("a\x00b\u202ec.pdf", "id1", ".pdf") == "a_bc.pdf"
    assert safe_name("nul.pdf", "id1", ".pdf") == "_nul.pdf"
    assert len(safe_name("x" * 1000 + ".pdf", "id1", ".pdf")) == 124


def test_deleting_ones_own_account_needs_the_password_and_removes_everything(
    workspace: Container, audit_file: Path
) -> None:
    c = workspace
    own = c.own_account
    [doc] = c.registry.list("alice")
    session = c.sessions.create("alice")
    TokenService(c.db).create("alice", ["ask"], "30d", actor="alice")
    GroupService(c.db).add("Sales")
    GroupService(c.db).add_member("Sales", "alice")
    plan = own.preview("alice")
    assert (plan.documents, plan.conversations, plan.messages, plan.feedback, plan.tokens, plan.memberships) == (
        1,
        1,
        2,
        1,
        1,
        1,
    )
    assert plan.document_bytes == PDF.stat().st_size

    with pytest.raises(AuthError, match="password is not right"):
        own.delete("alice", "not-her-password")
    assert c.users.get("alice") and c.registry.list("alice") and c.sessions.resolve(session) == "alice"

    done = own.delete("alice", "alices-long-password", client="192.0.2.7")

    assert done.documents_deleted == 1
    assert c.users.find("alice") is None and c.sessions.resolve(session) is None
    assert c.registry.list("alice") == [] and not c.files.exists("alice", doc.sha256)
    assert c.conversations.list("alice") == [] and TokenService(c.db).list("alice") == []
    assert GroupService(c.db).members("Sales") == []
    assert c.registry.list("bob") and c.conversations.list("bob")  # bob's untouched
    events = [json.loads(line) for line in audit_file.read_text().splitlines()]
    removed = [(e["actor"], e["outcome"]) for e in events if e["event"] == "user.removed"]
    assert removed == [("alice", "failed"), ("alice", "ok")]


def test_the_last_admin_cannot_leave_and_a_single_sign_on_account_confirms_with_its_name(container: Container) -> None:
    c = container
    c.users.add("root", "roots-long-password", is_admin=True)
    with pytest.raises(AuthError, match="last administrator"):
        c.own_account.delete("root", "roots-long-password")
    assert c.users.get("root").is_admin

    name, created = c.users.find_or_create("sso.user@example.com")
    assert created and not c.own_account.confirms_with_password(name)
    assert not c.users.authenticate(name, "")  # no password signs in to it
    with pytest.raises(AuthError, match="user name"):
        c.own_account.delete(name, "something else")
    c.own_account.delete(name, name)
    assert c.users.find(name) is None


def test_the_cli_exports_and_dry_run_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run_app(data, "users", "add", "alice", stdin="alices-long-password\n").returncode == 0
    ingested = run_app(data, "ingest", "--user", "alice", str(PDF))
    assert ingested.returncode == 0, ingested.stderr

    dry = run_app(data, "users", "remove", "alice", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "nothing has been changed" in dry.stdout
    assert f"documents:          1 ({PDF.stat().st_size} bytes)" in dry.stdout
    assert "group memberships:  0" in dry.stdout
    assert "alice" in run_app(data, "users", "list").stdout
    assert "jbtxdoc.pdf" in run_app(data, "documents", "list", "--user", "alice").stdout

    folder = tmp_path / "exports"
    folder.mkdir()
    done = run_app(data, "users", "export", "alice", str(folder))
    assert done.returncode == 0, done.stderr
    [archive] = folder.glob("alice-data-*.zip")
    assert "1 documents (1 originals" in done.stdout
    with zipfile.ZipFile(archive) as zf:
        assert zf.read("documents/jbtxdoc.pdf") == PDF.read_bytes()
    named = run_app(data, "users", "export", "alice", str(tmp_path / "mine.zip"))
    assert named.returncode == 0 and (tmp_path / "mine.zip").exists()

    unknown = run_app(data, "users", "export", "carl", str(folder))
    assert unknown.returncode == 1 and unknown.stderr.strip() == "error: no such user: 'carl'"
    unknown = run_app(data, "users", "remove", "carl", "--dry-run")
    assert unknown.returncode == 1 and unknown.stderr.strip() == "error: no such user: 'carl'"


def test_retention_deletes_only_old_conversations_once_a_day_across_instances(audit_file: Path) -> None:
    with fresh_database() as url:
        first, second = Database(url), Database(url)
        first.create_all()
        try:
            old, recent = _conversation(first, "alice", 40), _conversation(first, "alice", 5)
            bobs_old = _conversation(first, "bob", 31)
            off = ConversationRetention(first, None)
            assert off.run_if_due() is None and off.expire() == 0
            results: list[int | None] = []
            instances = [ConversationRetention(db, 30) for db in (first, second)]
            threads = [threading.Thread(target=lambda r=r: results.append(r.run_if_due())) for r in instances]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert sorted(results, key=str) == [2, None]  # one instance did today's run
            assert instances[0].run_if_due() is None and instances[1].run_if_due() is None
            with first.session() as s:
                left = set(s.scalars(select(Conversation.id)))
                messages = s.scalar(select(func.count(Message.id)))
            assert left == {recent} and old not in left and bobs_old not in left and messages == 2
            events = [json.loads(line) for line in audit_file.read_text().splitlines()]
            assert [(e["event"], e["actor"], e["count"], e["days"]) for e in events] == [
                ("conversations.expired", "system", 2, 30)
            ]
        finally:
            first.close()
            second.close()


def _conversation(db: Database, owner: str, days_old: int) -> str:
    from app.answering.conversations import ConversationService

    conversations = ConversationService(db)
    conv = conversations.create(owner, f"question {days_old} days ago")
    conversations.append(owner, conv.id, "q", "a", [])
    with db.session() as s:
        when = utcnow() - timedelta(days=days_old)
        s.execute(update(Conversation).where(Conversation.id == conv.id).values(updated_at=when, created_at=when))
    return conv.id


def test_the_export_reads_originals_from_an_object_store(tmp_path: Path, local_embedder: object) -> None:
    """files.url s3://: the original comes out of the bucket (through the bounded cache) byte for
    byte, and an original missing from the bucket is named in the manifest, not silently left out."""
    from tests.fixtures.s3_server import s3_server

    with s3_server() as s3:
        bucket = s3.new_bucket()
        c = container_for(make_settings(tmp_path / "data", files=s3.settings(bucket, cache_mb=0)), local_embedder)  # type: ignore[arg-type]
        try:
            c.users.add("alice", "alices-long-password")
            assert c.ingestion.ingest_file("alice", PDF).outcome == "ingested"
            gone = c.ingestion.ingest_file("alice", DATA / "bxjscls-manual.pdf")
            assert gone.outcome == "ingested"
            [missing] = [d for d in c.registry.list("alice") if d.name == "bxjscls-manual.pdf"]
            c.files.delete("alice", missing.sha256)  # lost from the bucket behind the app's back
            summary = c.data_export.write("alice", tmp_path / "a.zip")
            assert summary.originals == 1 and summary.missing_originals == [missing.id]
            with zipfile.ZipFile(tmp_path / "a.zip") as zf:
                assert zf.read("documents/jbtxdoc.pdf") == PDF.read_bytes()
                listed = {d["name"]: d["original"] for d in json.loads(zf.read("documents.json"))}
                assert listed == {"jbtxdoc.pdf": "documents/jbtxdoc.pdf", "bxjscls-manual.pdf": None}
                assert json.loads(zf.read("manifest.json"))["missing_originals"] == [missing.id]
        finally:
            c.close()


def test_a_long_history_is_exported_whole(container: Container, tmp_path: Path) -> None:
    """1,234 conversations (more than two read batches): every one, with its messages, in the JSON
    and as a readable file; nothing cut at a page size."""
    from app.storage.db import Feedback, UsageRecord

    c = container
    c.users.add("alice", "alices-long-password")
    n = 1234
    with c.db.session() as s:
        for i in range(n):
            conv = Conversation(id=f"c{i:05d}", owner="alice", title=f"question number {i}")
            s.add(conv)
            s.add(Message(conversation_id=conv.id, role="user", content=f"q{i}"))
            s.add(Message(conversation_id=conv.id, role="assistant", content=f"a{i}", citations=[]))
        s.add_all(UsageRecord(owner="alice", kind="chat", model="m", prompt_tokens=i) for i in range(n))
    with c.db.session() as s:
        first = s.scalar(select(Message.id).where(Message.content == "a0"))
        s.add(
            Feedback(
                owner="alice",
                conversation_id="c00000",
                message_id=first,
                rating=1,
                question="q0",
                answer="a0",
                sources=[],
                model="m",
            )
        )

    summary = c.data_export.write("alice", tmp_path / "a.zip")

    assert (summary.conversations, summary.messages, summary.usage_records, summary.feedback) == (n, 2 * n, n, 1)
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        conversations = json.loads(zf.read("conversations.json"))
        assert sorted(c["id"] for c in conversations) == [f"c{i:05d}" for i in range(n)]
        assert all(len(c["messages"]) == 2 for c in conversations)
        assert len([m for m in zf.namelist() if m.startswith("conversations/")]) == n
        assert len(json.loads(zf.read("usage.json"))) == n


def test_a_server_with_retention_on_expires_old_conversations_at_start(tmp_path: Path) -> None:
    """The wiring: `serve` with retention.conversations_days runs today's expiry in the background."""
    from tests.fixtures.server import running_server

    data = tmp_path / "data"
    c = Container(make_settings(data))
    try:
        c.users.add("admin", "admins-long-password", is_admin=True)
        _conversation(c.db, "admin", 10)
        recent = _conversation(c.db, "admin", 1)
    finally:
        c.close()
    with running_server(data, env={"APP_RETENTION__CONVERSATIONS_DAYS": "7"}, admin=None) as server:
        audit_log = data / "logs" / "audit.log"
        deadline = time.monotonic() + 30
        while "conversations.expired" not in (audit_log.read_text() if audit_log.exists() else ""):
            assert time.monotonic() < deadline, server.log()[-2000:]
            time.sleep(0.3)
    [line] = [json.loads(x) for x in audit_log.read_text().splitlines() if "conversations.expired" in x]
    assert (line["count"], line["days"], line["actor"]) == (1, 7, "system")
    c = Container(make_settings(data))
    try:
        assert [conv.id for conv in c.conversations.list("admin")] == [recent]
    finally:
        c.close()


def test_a_browser_single_sign_on_signed_in_confirms_with_the_name_even_when_the_account_has_a_password(
    container: Container,
) -> None:
    """Accounts single sign-on made before it made them without a password hold a random one nobody
    knows: a browser the identity provider signed in confirms with the user name; a browser signed
    in by password, or a session of someone else, still needs the password."""
    c = container
    c.users.add("erin", "erins-long-password")
    c.users.add("frank", "franks-long-password")
    by_sso = c.sessions.create("erin", method="oidc")
    by_password = c.sessions.create("erin")
    franks = c.sessions.create("frank", method="oidc")
    assert c.sessions.signed_in_by(by_sso, "erin") == "oidc" and c.sessions.signed_in_by(franks, "erin") is None
    own = OwnAccount(c.users, c.accounts, c.login_throttle, c.sessions)
    assert own.confirms_with_password("erin", by_password) and own.confirms_with_password("erin", franks)
    assert own.confirms_with_password("erin")  # no session named: the password
    with pytest.raises(AuthError, match="password"):
        own.delete("erin", "erin", session=by_password)
    with pytest.raises(AuthError, match="password"):
        own.delete("erin", "erin", session=franks)
    assert not own.confirms_with_password("erin", by_sso)
    with pytest.raises(AuthError, match="user name"):
        own.delete("erin", "erins-long-password", session=by_sso)
    own.delete("erin", "erin", session=by_sso)
    assert c.users.find("erin") is None and c.users.find("frank") == "frank"
