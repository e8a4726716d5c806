"""Backup and restore: a round trip into an empty workspace gives the same sources for the same
questions, a document being ingested is either fully in the backup or absent, and damaged or
incomplete backups and non-empty targets are refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.schema import MetadataMode

from app.admin.backup import BackupError, BackupService, _Writer
from app.container import Container
from app.documents.indexing import DocumentRef
from app.documents.pdf_reader import read_pdf
from app.models.embeddings import EmbeddingModel
from app.storage.vector_store import DOC_KEY
from tests.conftest import DATA, container_for, make_settings
from tests.fixtures.cli import run_app
from tests.fixtures.postgres import fresh_database

QUESTIONS = ["How do I get superscript citation numbers?", "和文フォントの設定", "author-year citations"]


def _service(c: Container) -> BackupService:
    return c.backups


def _sources(c: Container, owner: str) -> list[list[tuple[str, int, str]]]:
    return [[(p.file, p.page, p.text[:40]) for p in c.retriever.retrieve(owner, q).passages] for q in QUESTIONS]


@pytest.fixture
def original(tmp_path: Path, local_embedder: EmbeddingModel) -> Container:
    return _alice(tmp_path, local_embedder, {})


@pytest.fixture(params=["sqlite", "postgresql"])
def original_on(request: pytest.FixtureRequest, tmp_path: Path, local_embedder: EmbeddingModel) -> Iterator[Container]:
    """The same, on SQLite or on the PostgreSQL server of this machine: a backup reads the database
    in one snapshot, and how it gets one differs between the two."""
    if request.param == "sqlite":
        yield _alice(tmp_path, local_embedder, {})
        return
    with fresh_database() as url:
        c = _alice(tmp_path, local_embedder, {"url": url})
        yield c
        c.close()  # (again) before the database is dropped


def _index_some_pages(c: Container, doc: DocumentRef, pdf: Path, pages: int) -> int:
    """Chunks of the first `pages` pages of `pdf` written to the store under `doc`, embedded, the
    way the ingestion writes a document's first batches before its row is ready."""
    nodes = [node for batch in c.ingestion.indexer.batches(doc, read_pdf(pdf)[:pages]) for node in batch.nodes]
    vectors = c.embedder.embed_documents([n.get_content(MetadataMode.EMBED) for n in nodes], doc.owner)
    for node, vector in zip(nodes, vectors, strict=True):
        node.embedding = vector
    c.vector_store.add(nodes)
    return len(nodes)


def _alice(tmp_path: Path, local_embedder: EmbeddingModel, database: dict[str, str]) -> Container:
    c = container_for(make_settings(tmp_path / "a", database=database), local_embedder)
    c.users.add("alice", "alices-long-password")
    for name in ("natbib.pdf", "jbtxdoc.pdf"):
        assert c.ingestion.ingest_file("alice", DATA / name).outcome == "ingested"
    conv = c.conversations.create("alice", "What is natbib?")
    c.conversations.append("alice", conv.id, "What is natbib?", "A citation package [1].", [])
    return c


def test_round_trip_gives_the_same_sources_and_leaves_half_ingested_documents_out(
    original_on: Container, tmp_path: Path, local_embedder: EmbeddingModel
) -> None:
    original = original_on
    # A document in the middle of its ingestion when the backup runs: row in "indexing", some vectors.
    doc = original.registry.create("alice", "half.pdf", "f" * 64, 10, None)
    original.registry.update(doc.id, status="indexing")
    half = _index_some_pages(original, DocumentRef(doc.id, "alice", "half.pdf"), DATA / "hyperref-doc.pdf", 3)
    assert half > 0 and original.vector_store.count("alice", [doc.id]) == half
    ready_vectors = sum(d.chunks for d in original.registry.list("alice") if d.status == "ready")
    assert original.vector_store.count("alice") == ready_vectors + half
    before = _sources(original, "alice")
    manifest = _service(original).backup(str(tmp_path / "backup"))
    assert manifest["counts"]["tables"]["documents"] == 2 and manifest["counts"]["files"] == 2
    assert manifest["counts"]["vectors"] == ready_vectors
    with open(tmp_path / "backup" / "vectors.jsonl", encoding="utf-8") as f:
        backed_up = [json.loads(line)["payload"][DOC_KEY] for line in f]
    assert len(backed_up) == ready_vectors and doc.id not in backed_up
    original.close()

    restored = container_for(make_settings(tmp_path / "b"), local_embedder)
    try:
        _service(restored).restore(str(tmp_path / "backup"))
        assert sorted((d.name, d.status) for d in restored.registry.list("alice")) == [
            ("jbtxdoc.pdf", "ready"),
            ("natbib.pdf", "ready"),
        ]
        assert _sources(restored, "alice") == before
        assert restored.users.authenticate("alice", "alices-long-password")
        [conv] = restored.conversations.list("alice")
        assert [m.content for m in restored.conversations.messages("alice", conv.id)][-1] == "A citation package [1]."
        image = restored.pages.render("alice", restored.registry.list("alice")[0].id, 1)
        assert image.size[0] > 100  # the original file came back too
        with pytest.raises(BackupError, match="already holds"):
            _service(restored).restore(str(tmp_path / "backup"))
        _service(restored).restore(str(tmp_path / "backup"), force=True)  # replaces, no duplicates
        assert len(restored.registry.list("alice")) == 2
        assert restored.vector_store.count("alice") == manifest["counts"]["vectors"] == ready_vectors
        assert restored.vector_store.count("alice", [doc.id]) == 0
        for d in restored.registry.list("alice"):  # exactly each ready document's own vectors
            assert restored.vector_store.count("alice", [d.id]) == d.chunks > 0
    finally:
        restored.close()


def test_damaged_or_incomplete_backups_are_refused(
    original: Container, tmp_path: Path, local_embedder: EmbeddingModel
) -> None:
    _service(original).backup(str(tmp_path / "backup"))
    original.close()
    target = container_for(make_settings(tmp_path / "b"), local_embedder)
    try:
        vectors = tmp_path / "backup" / "vectors.jsonl"
        data = bytearray(vectors.read_bytes())
        data[100] ^= 1
        vectors.write_bytes(bytes(data))
        with pytest.raises(BackupError, match=r"damaged: vectors\.jsonl"):
            _service(target).restore(str(tmp_path / "backup"))
        (tmp_path / "backup" / "db" / "users.jsonl").unlink()
        with pytest.raises(BackupError, match="incomplete"):
            _service(target).restore(str(tmp_path / "backup"))
        with pytest.raises(BackupError, match="not a backup"):
            _service(target).restore(str(tmp_path))
        assert target.registry.list("alice") == []  # nothing was half restored
    finally:
        target.close()


def test_backup_and_restore_commands(original: Container, tmp_path: Path) -> None:
    original.close()
    made = run_app(tmp_path / "a", "backup", str(tmp_path / "bk"))
    assert made.returncode == 0 and "2 documents" in made.stdout, made.stderr
    again = run_app(tmp_path / "a", "backup", str(tmp_path / "bk"))
    assert again.returncode == 1 and "already holds a backup" in again.stderr
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    assert manifest["schema_revision"] and manifest["embedding_model"] and manifest["sha256"]
    done = run_app(tmp_path / "c", "restore", str(tmp_path / "bk"))
    assert done.returncode == 0 and "2 documents" in done.stdout, done.stderr
    refused = run_app(tmp_path / "c", "restore", str(tmp_path / "bk"))
    assert refused.returncode == 1 and "--force" in refused.stderr and "Traceback" not in refused.stderr
    audit = (tmp_path / "c" / "logs" / "audit.log").read_text()
    assert '"event": "restore"' in audit


def test_backup_reads_the_database_in_one_snapshot(
    original_on: Container, tmp_path: Path, local_embedder: EmbeddingModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A conversation written while the backup runs (after its table was read, before its messages'
    table is) is in the backup whole or not at all: messages without their conversation would be
    refused by the restore's foreign keys."""
    original = original_on
    opened = _Writer.open

    @contextmanager
    def open_and_chat(self: _Writer, name: str) -> Iterator[Any]:
        if name == "db/documents.jsonl":  # conversations are read, messages not yet
            late = original.conversations.create("alice", "Written during the backup")
            original.conversations.append("alice", late.id, "Written during the backup", "Late [1].", [])
        with opened(self, name) as f:
            yield f

    monkeypatch.setattr(_Writer, "open", open_and_chat)
    manifest = _service(original).backup(str(tmp_path / "backup"))
    monkeypatch.undo()
    assert manifest["counts"]["tables"]["conversations"] == 1 and manifest["counts"]["tables"]["messages"] == 2
    assert len(original.conversations.list("alice")) == 2  # the late one was written, after the snapshot

    restored = container_for(make_settings(tmp_path / "b"), local_embedder)
    try:
        _service(restored).restore(str(tmp_path / "backup"))
        [conv] = restored.conversations.list("alice")
        assert conv.title == "What is natbib?"
    finally:
        restored.close()
