"""Team libraries (issue 31): a group's library is searched by its members and by nobody else,
through every door; readers ask, editors upload and delete; leaving the group removes access at the
next request, also on a second instance sharing the database; the library's storage is charged to
the library; the CLI fills, lists, limits and empties a library."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.auth.groups import GroupService
from app.container import Container
from app.errors import AppError, NotFound, QuotaExceeded
from app.models.embeddings import EmbeddingModel
from tests.conftest import container_for, make_settings
from tests.fixtures.cli import run_app
from tests.fixtures.postgres import fresh_database

DATA = Path(__file__).parent / "data"
PASSWORD = "long-enough-password"
QUESTION = "Which command gives a textual citation with natbib?"


def _team(c: Container) -> tuple[str, str]:
    """alice edits Eng, bob reads it, mallory is in no group; natbib.pdf is in Eng's library and
    hyperref-doc.pdf is alice's own. Returns (the library's tenant, its document's id)."""
    for name in ("alice", "bob", "mallory"):
        c.users.add(name, PASSWORD)
    groups = GroupService(c.db)
    groups.add("Eng")
    groups.add_member("Eng", "alice", "editor")
    groups.add_member("Eng", "bob", "reader")
    tenant = c.libraries.tenant_of_library("eng")
    result = c.ingestion.ingest_file(tenant, DATA / "natbib.pdf")
    assert result.outcome == "ingested" and result.doc_id, result
    assert c.ingestion.ingest_file("alice", DATA / "hyperref-doc.pdf").outcome == "ingested"
    return tenant, result.doc_id


def _cited(c: Container, user: str, question: str = QUESTION, **kwargs: object) -> list[tuple[str, str]]:
    answer, _ = c.chat.ask(user, question, **kwargs)
    return [(cit.file, cit.library) for cit in answer.citations]


@pytest.fixture
def team(tmp_path: Path, local_embedder: EmbeddingModel) -> Iterator[tuple[Container, str, str]]:
    c = container_for(make_settings(tmp_path / "data"), local_embedder)
    tenant, doc_id = _team(c)
    yield c, tenant, doc_id
    c.close()


def test_members_search_the_library_and_a_non_member_reaches_nothing_of_it(
    team: tuple[Container, str, str],
) -> None:
    c, tenant, doc_id = team
    # Readers and editors ask the library, named as such in the citations.
    assert ("natbib.pdf", "Eng") in _cited(c, "bob")
    assert ("natbib.pdf", "Eng") in _cited(c, "alice")
    # alice's own document is hers alone: bob's answers never cite it.
    assert all(f != "hyperref-doc.pdf" for f, _ in _cited(c, "bob", "hyperref package options for links"))
    # A library picked alone narrows the search to it; alice's own documents are left out.
    only = _cited(c, "alice", "hyperref package options for links", doc_ids=[tenant])
    assert only and all(lib == "Eng" for _, lib in only)

    # mallory, in no group, reaches nothing of it by any name: not by searching, not by picking
    # the library or its document, not its pages, list, jobs, or delete.
    assert _cited(c, "mallory") == []
    assert c.chat.ask("mallory", QUESTION, doc_ids=[tenant])[0].citations == []
    assert c.chat.ask("mallory", QUESTION, doc_ids=[doc_id])[0].citations == []
    assert c.libraries.scope("mallory", [tenant, doc_id]).tenants == ("mallory",)
    with pytest.raises(NotFound):
        c.pages.render(c.library_docs.tenant_of("mallory", doc_id), doc_id, 1)
    for denied in (
        lambda: c.library_docs.documents("mallory", tenant, 10),
        lambda: c.library_docs.documents("mallory", "Eng", 10),
        lambda: c.library_docs.jobs("mallory", tenant),
        lambda: c.library_docs.delete("mallory", doc_id),
    ):
        with pytest.raises(NotFound) as e:
            denied()
        assert "natbib" not in str(e.value)
    assert c.pages.render(c.library_docs.tenant_of("bob", doc_id), doc_id, 1).width > 0  # a member sees it

    # A reader asks but does not change the library.
    with pytest.raises(NotFound, match="reader"):
        c.library_docs.library("bob", "Eng", "editor")
    with pytest.raises(NotFound):
        c.library_docs.delete("bob", doc_id)
    # Nor does anyone reach a user's own document through the library door.
    own = c.registry.list("alice")[0].id
    with pytest.raises(NotFound):
        c.library_docs.delete("alice", own)

    # Leaving the group: the next question no longer finds the library, its page is not found.
    GroupService(c.db).remove_member("Eng", "bob")
    assert _cited(c, "bob") == []
    with pytest.raises(NotFound):
        c.pages.render(c.library_docs.tenant_of("bob", doc_id), doc_id, 1)

    # The editor deletes; a group whose library still holds documents is not removed.
    with pytest.raises(AppError, match="holds 1 document"):
        GroupService(c.db).remove("Eng")
    assert c.library_docs.delete("alice", doc_id).name == "natbib.pdf"
    assert c.registry.count(tenant) == 0
    GroupService(c.db).remove("Eng")


def test_the_library_s_storage_is_charged_to_the_library(team: tuple[Container, str, str]) -> None:
    c, tenant, _doc_id = team
    c.quotas.set_limits(tenant, documents=1)
    refused = c.ingestion.ingest_file(tenant, DATA / "jbtxdoc.pdf")
    assert refused.outcome == "failed" and refused.reason == "quota", refused
    # alice's own workspace keeps its own allowance: the library's document is not hers.
    assert c.ingestion.ingest_file("alice", DATA / "jbtxdoc.pdf").outcome == "ingested"
    with pytest.raises(QuotaExceeded):
        c.quotas.check_storage(tenant, 2, 1)


def test_leaving_a_group_on_one_instance_ends_access_on_the_other(
    tmp_path: Path, local_embedder: EmbeddingModel
) -> None:
    """Two containers (instances) on one PostgreSQL database and one vector store: each reads the
    membership at each question, none remembers it; the answer cache does not hand the old answer
    back either."""
    with fresh_database() as url:
        settings = make_settings(tmp_path / "data", database={"url": url})
        a = container_for(settings, local_embedder)
        b = container_for(settings, local_embedder)
        b.__dict__["vector_store"] = a.vector_store  # the embedded engine is one process's
        try:
            _team(a)
            assert ("natbib.pdf", "Eng") in _cited(b, "bob")
            assert ("natbib.pdf", "Eng") in _cited(b, "bob")  # again, from b's answer cache
            GroupService(a.db).remove_member("Eng", "bob")
            assert _cited(b, "bob") == []
            assert b.library_docs.libraries("bob") == []
            GroupService(a.db).add_member("Eng", "bob", "reader")
            assert ("natbib.pdf", "Eng") in _cited(b, "bob")
        finally:
            b.__dict__.pop("vector_store", None)
            b.close()
            a.close()


def test_a_library_through_the_cli(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run_app(data, "users", "add", "alice", stdin=f"{PASSWORD}\n" * 2).returncode == 0
    assert run_app(data, "groups", "add", "Legal").returncode == 0
    nowhere = run_app(data, "ingest", str(DATA / "natbib.pdf"), "--library", "Sales")
    assert nowhere.returncode == 1 and "no such library: 'Sales'" in nowhere.stderr
    assert "Traceback" not in nowhere.stderr
    both = run_app(data, "ingest", str(DATA / "natbib.pdf"), "--library", "Legal", "--user", "alice")
    assert both.returncode != 0 and "not allowed with" in both.stderr

    done = run_app(data, "ingest", str(DATA / "natbib.pdf"), "--library", "legal")
    assert done.returncode == 0 and "ingested" in done.stdout, done.stderr
    listed = run_app(data, "documents", "list", "--library", "Legal").stdout.splitlines()
    assert len(listed) == 1 and listed[0].endswith("natbib.pdf")
    assert run_app(data, "documents", "list", "--user", "alice").stdout.strip() == ""

    assert run_app(data, "quotas", "set", "Legal", "--library", "--documents", "1").returncode == 0
    shown = run_app(data, "quotas", "show", "Legal", "--library").stdout
    assert "quotas of library Legal" in shown and "documents" in shown
    over = run_app(data, "ingest", str(DATA / "jbtxdoc.pdf"), "--library", "Legal")
    assert over.returncode == 1 and "documents" in over.stderr

    # A member asks the library by name; someone else's library is "no such library".
    assert run_app(data, "groups", "add-member", "Legal", "alice").returncode == 0
    asked = run_app(data, "ask", QUESTION, "--user", "alice", "--library", "legal", "--json")
    assert asked.returncode == 0, asked.stderr
    assert json.loads(asked.stdout)["citations"][0]["library"] == "Legal"
    assert run_app(data, "users", "add", "zed", stdin=f"{PASSWORD}\n" * 2).returncode == 0
    outside = run_app(data, "ask", QUESTION, "--user", "zed", "--library", "Legal", "--json")
    assert outside.returncode == 1 and "no such library" in outside.stderr and "natbib" not in outside.stdout

    # A backup restored elsewhere keeps the library, its members and its document.
    assert run_app(data, "backup", str(tmp_path / "bk")).returncode == 0
    restored = run_app(tmp_path / "elsewhere", "restore", str(tmp_path / "bk"))
    assert restored.returncode == 0, restored.stderr
    again = run_app(tmp_path / "elsewhere", "documents", "list", "--library", "Legal").stdout
    assert again.rstrip().endswith("natbib.pdf")
    asked = run_app(tmp_path / "elsewhere", "ask", QUESTION, "--user", "alice", "--library", "Legal", "--json")
    assert json.loads(asked.stdout)["citations"][0]["library"] == "Legal"

    held = run_app(data, "groups", "remove", "Legal")
    assert held.returncode != 0 and "holds 1 document" in held.stderr
    doc_id = listed[0].split("\t")[0]
    assert run_app(data, "documents", "delete", doc_id, "--library", "Legal").returncode == 0
    assert run_app(data, "groups", "remove", "Legal").returncode == 0
