"""Safe re-indexing: an index built with other settings is refused with what changed; `reindex`
builds a new collection beside the old one while questions keep being answered, then switches;
a re-index that fails half-way leaves the old index searchable and nothing behind."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from app.admin.reindex import ReindexService
from app.config import Settings
from app.container import Container
from app.documents.ingestion import IngestionService
from app.errors import ConfigError, ServiceUnavailable
from app.models.embeddings import build_embedding_model
from app.models.sparse import TOKENIZER_VERSION
from app.storage.index_state import IndexStateStore, fingerprint
from app.storage.vector_factory import collection_names
from app.storage.vector_store import VectorStore
from tests.conftest import DATA, container_for, make_settings
from tests.fixtures.llm_server import FakeOpenAIServer

QUESTION = "How do I get superscript citation numbers?"


def settings_for(tmp_path: Path, llm: FakeOpenAIServer, model: str) -> Settings:
    settings = make_settings(
        tmp_path / "data",
        embeddings={"provider": "openai", "model": model, "api_base": llm.base_url, "batch_size": 16},
        llm={"max_retries": 0},
    )
    settings.embeddings.api_key = None
    return settings


def reindexer(serving: Container, settings: Settings) -> ReindexService:
    embedder = build_embedding_model(settings.embeddings)

    def make_ingestion(store: VectorStore) -> IngestionService:
        return IngestionService(settings.documents, serving.registry, serving.files, store, embedder)

    return ReindexService(
        serving.db,
        serving.vector_store.client,
        settings.qdrant.collection,
        False,
        serving.registry,
        serving.files,
        make_ingestion,
        embedder.dim,
        fingerprint(settings, TOKENIZER_VERSION),
    )


def _pages(c: Container) -> list[tuple[str, int]]:
    return [(p.file, p.page) for p in c.retriever.retrieve("alice", QUESTION).passages]


def test_a_model_switch_is_refused_then_reindexed_while_questions_are_answered(
    tmp_path: Path, llm: FakeOpenAIServer
) -> None:
    old = settings_for(tmp_path, llm, "test-embedding-a")
    new = settings_for(tmp_path, llm, "test-embedding-b")  # same dimension: only the fingerprint tells
    a = container_for(old)
    assert a.ingestion.ingest_file("alice", DATA / "natbib.pdf").outcome == "ingested"
    before = _pages(a)
    a.close()

    refused = container_for(new)
    with pytest.raises(ConfigError, match=r"embeddings\.model: 'test-embedding-a' -> 'test-embedding-b'.*reindex"):
        _ = refused.vector_store
    refused.close()

    serving = container_for(old)
    answered, errors = [], []
    stop = threading.Event()

    def ask_all_the_time() -> None:
        while not stop.is_set():
            try:
                answered.append(_pages(serving))
            except Exception as e:  # any failure here is what the test is about
                errors.append(e)

    asker = threading.Thread(target=ask_all_the_time)
    asker.start()
    try:
        result = reindexer(serving, new).run()
    finally:
        stop.set()
        asker.join()
    assert errors == [] and len(answered) >= 2
    assert answered[0] == before
    assert result.documents == 1 and result.failed == []
    stored = IndexStateStore(serving.db).get(new.qdrant.collection)
    assert stored is not None and stored[1]["embeddings.model"] == "test-embedding-b"
    collections = collection_names(serving.vector_store.client)
    assert collections == {result.collection}  # the old collection is gone
    serving.close()

    after = container_for(new)
    try:
        assert _pages(after) == before  # same embedding vectors here, so the same pages
        [doc] = after.registry.list("alice")
        assert after.vector_store.count("alice") == doc.chunks
    finally:
        after.close()


def test_a_failing_reindex_leaves_the_old_index_untouched(tmp_path: Path, llm: FakeOpenAIServer) -> None:
    old = settings_for(tmp_path, llm, "test-embedding-a")
    serving = container_for(old)
    try:
        assert serving.ingestion.ingest_file("alice", DATA / "natbib.pdf").outcome == "ingested"
        before = _pages(serving)
        state_before = IndexStateStore(serving.db).get(old.qdrant.collection)
        collections_before = collection_names(serving.vector_store.client)
        service = reindexer(serving, settings_for(tmp_path, llm, "test-embedding-b"))
        llm.fail_next(1000, 500, "embeddings")  # the new model's service fails from the first document on
        with pytest.raises(ServiceUnavailable):
            service.run()
        llm.reset()
        assert _pages(serving) == before  # still searchable, same answers
        assert IndexStateStore(serving.db).get(old.qdrant.collection) == state_before
        assert collection_names(serving.vector_store.client) == collections_before
        assert [d.status for d in serving.registry.list("alice")] == ["ready"]
    finally:
        serving.close()


def test_a_reindex_failing_after_some_documents_switches_nothing(tmp_path: Path, llm: FakeOpenAIServer) -> None:
    """The embedding service goes away after the first of two documents: not a per-file failure, so
    the re-index stops, the old index stays in use and no document is marked failed (it used to
    switch to the half-built index and mark the rest failed: invisible)."""
    old = settings_for(tmp_path, llm, "test-embedding-a")
    serving = container_for(old)
    try:
        for name in ("natbib.pdf", "jbtxdoc.pdf"):
            assert serving.ingestion.ingest_file("alice", DATA / name).outcome == "ingested"
        before = _pages(serving)
        state_before = IndexStateStore(serving.db).get(old.qdrant.collection)
        collections_before = collection_names(serving.vector_store.client)
        service = reindexer(serving, settings_for(tmp_path, llm, "test-embedding-b"))
        started: list[str] = []

        def progress(doc: str) -> None:
            started.append(doc)
            if len(started) == 2:  # the first document is re-embedded; now the service fails
                llm.fail_next(1000, 500, "embeddings")

        with pytest.raises(ServiceUnavailable):
            service.run(progress=progress)
        llm.reset()
        assert len(started) == 2
        assert _pages(serving) == before
        assert IndexStateStore(serving.db).get(old.qdrant.collection) == state_before
        assert collection_names(serving.vector_store.client) == collections_before
        assert sorted(d.status for d in serving.registry.list("alice")) == ["ready", "ready"]
    finally:
        serving.close()


def test_other_index_settings_are_named_when_refused(tmp_path: Path, llm: FakeOpenAIServer) -> None:
    first = container_for(settings_for(tmp_path, llm, "test-embedding-a"))
    _ = first.vector_store
    first.close()
    changed = settings_for(tmp_path, llm, "test-embedding-a")
    changed.documents.chunk_size = 150
    changed.documents.section_context = False
    c = container_for(changed)
    with pytest.raises(ConfigError) as refused:
        _ = c.vector_store
    c.close()
    assert "documents.chunk_size: 200 -> 150" in str(refused.value)
    assert "documents.section_context: True -> False" in str(refused.value)
