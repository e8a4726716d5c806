"""Ingestion: idempotent by content, replacement without stale chunks, crash recovery, failures."""

import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from app.container import Container
from app.documents.indexing import DocumentRef, Progress
from app.documents.ingestion import sha256_of
from app.documents.pdf_reader import read_pdf
from app.models.embeddings import EmbeddingModel
from app.storage.db import utcnow
from tests.conftest import DATA, container_for, make_settings
from tests.fixtures import pdf_factory
from tests.fixtures.llm_server import FakeOpenAIServer


@pytest.fixture
def api_container(tmp_path: Path, llm: FakeOpenAIServer):
    """Embeddings through the OpenAI-compatible test server, so every request is counted."""
    settings = make_settings(
        tmp_path / "data",
        embeddings={
            "provider": "openai",
            "model": "test-embedding",
            "api_base": llm.base_url,
            "batch_size": 16,
            "max_concurrency": 4,
        },
        documents={"chunk_size": 200},
    )
    settings.embeddings.api_key = None
    c = container_for(settings)
    yield c
    c.close()


def test_identical_bytes_make_zero_embedding_requests(
    api_container: Container, llm: FakeOpenAIServer, tmp_path: Path
) -> None:
    first = api_container.ingestion.ingest_file("alice", DATA / "natbib.pdf")
    assert first.outcome == "ingested" and first.pages == 26 and first.chunks > 26
    requests_after_first = llm.counts["embeddings"]
    batches = -(-first.chunks // 16)  # batch_size 16
    # batched (one request per chunk would be ~16x more); +1 for the request that reads the dimension
    assert batches <= requests_after_first <= batches + 1, (requests_after_first, first.chunks)
    copy = tmp_path / "renamed-copy.pdf"
    shutil.copy(DATA / "natbib.pdf", copy)
    assert api_container.ingestion.ingest_file("alice", DATA / "natbib.pdf").outcome == "unchanged"
    assert api_container.ingestion.ingest_file("alice", copy).outcome == "unchanged"
    assert llm.counts["embeddings"] == requests_after_first
    # Another user's identical file is their own document.
    assert api_container.ingestion.ingest_file("bob", DATA / "natbib.pdf").outcome == "ingested"


def test_new_content_under_same_name_replaces_old_chunks(container: Container, tmp_path: Path) -> None:
    v1 = pdf_factory.text_pdf(tmp_path / "v1", ["The launch code is ALPHA-ONE. Keep it secret."], name="memo.pdf")
    v2 = pdf_factory.text_pdf(tmp_path / "v2", ["The launch code is BRAVO-TWO. Keep it secret."], name="memo.pdf")
    first = container.ingestion.ingest_file("alice", v1)
    second = container.ingestion.ingest_file("alice", v2)
    assert (first.outcome, second.outcome) == ("ingested", "replaced")
    docs = container.registry.list("alice")
    assert [d.id for d in docs] == [second.doc_id]
    assert container.vector_store.count("alice") == second.chunks
    texts = [p.text for p in container.retriever.retrieve("alice", "launch code", limit=20).passages]
    assert texts and all("BRAVO-TWO" in t for t in texts)
    assert not container.files.exists("alice", sha256_of(v1))  # the old original is gone too


def test_interrupted_ingestion_is_invisible_then_finished(container: Container, tmp_path: Path) -> None:
    """Simulate a process killed mid-document: a row in 'indexing' with some points written."""
    path = DATA / "natbib.pdf"
    sha = sha256_of(path)
    container.files.put("alice", sha, path)
    doc = container.registry.create("alice", "natbib.pdf", sha, path.stat().st_size, None)
    ingestion = container.ingestion
    pages = read_pdf(path)[:3]
    nodes = [n for b in ingestion.indexer.batches(DocumentRef(doc.id, doc.owner, doc.name), pages) for n in b.nodes]
    vectors = container.embedder.embed_documents([n.get_content() for n in nodes])
    for node, vector in zip(nodes, vectors, strict=True):
        node.embedding = vector
    container.vector_store.add(nodes)  # ...and then the process "died"
    assert container.vector_store.count("alice") == len(nodes)
    assert container.retriever.retrieve("alice", "natbib citations").passages == []  # nothing half-visible

    # While its lease is fresh the document is someone's work in progress: resume leaves it alone.
    assert ingestion.resume("alice") == []
    assert container.vector_store.count("alice") == len(nodes)
    assert container.registry.get("alice", doc.id).status in ("queued", "indexing")
    container.registry.update(doc.id, updated_at=utcnow() - timedelta(minutes=5))  # no renewal since: dead

    results = ingestion.resume("alice")
    assert [r.outcome for r in results] == ["ingested"]
    assert container.registry.get("alice", doc.id).status == "ready"
    assert container.vector_store.count("alice") == results[0].chunks
    assert container.retriever.retrieve("alice", "natbib citations").passages


def test_a_stale_document_is_taken_over_by_exactly_one_process(container: Container) -> None:
    doc = container.registry.create("alice", "x.pdf", "0" * 64, 1, None)
    assert not container.registry.claim_stale(doc.id, lease_s=60)  # just created: alive
    container.registry.update(doc.id, updated_at=utcnow() - timedelta(minutes=5))
    with ThreadPoolExecutor(8) as pool:
        claims = list(pool.map(lambda _: container.registry.claim_stale(doc.id, lease_s=60), range(8)))
    assert claims.count(True) == 1
    container.registry.touch(doc.id)
    assert not container.registry.claim_stale(doc.id, lease_s=60)


def test_an_ingestion_renews_its_lease_while_it_runs(tmp_path: Path, local_embedder: EmbeddingModel) -> None:
    """A document being indexed for longer than the lease is never taken for dead (3 s lease here)."""
    c = container_for(make_settings(tmp_path / "d", server={"ingest_lease_s": 3}), local_embedder)
    try:
        seen: list[bool] = []

        def progress(p: Progress) -> None:
            if p.stage == "embedding":
                time.sleep(1.6)  # a slow ingestion: three slices take about 5 s, longer than the lease
                [doc] = c.registry.in_flight("alice")
                seen.append(c.registry.claim_stale(doc.id, lease_s=3))

        result = c.ingestion.ingest_file("alice", DATA / "natbib.pdf", progress=progress)
        assert result.outcome == "ingested" and len(seen) >= 3 and not any(seen)
    finally:
        c.close()


@pytest.mark.parametrize(
    ("make", "reason"),
    pdf_factory.BAD_PDFS,
)
def test_bad_file_fails_cleanly_and_loses_nothing(
    tmp_path: Path, local_embedder: EmbeddingModel, make, reason: str
) -> None:
    # A scan is refused where text recognition is off (tests/test_ocr_ingestion.py: with it on).
    container = container_for(make_settings(tmp_path / "data", documents={"ocr": "off"}), local_embedder)
    good = container.ingestion.ingest_file("alice", DATA / "natbib.pdf")
    before = container.vector_store.count("alice")
    events: list[Progress] = []
    result = container.ingestion.ingest_file("alice", make(tmp_path), progress=events.append)
    assert result.outcome == "failed" and result.reason == reason and result.message
    assert events[-1].stage == "failed"
    assert container.vector_store.count("alice") == before
    assert container.registry.get("alice", good.doc_id).status == "ready"
    container.close()


def test_embedding_service_failure_leaves_no_chunks(api_container: Container, llm: FakeOpenAIServer) -> None:
    _ = api_container.vector_store  # opened (and the model's dimension probed) before the outage
    llm.fail_next(10_000, 500, endpoint="embeddings")  # a lasting outage, beyond every retry
    result = api_container.ingestion.ingest_file("alice", DATA / "natbib.pdf")
    assert result.outcome == "failed" and "embedding" in (result.message or "")
    assert api_container.vector_store.count("alice") == 0
    llm.reset()
    assert api_container.ingestion.ingest_file("alice", DATA / "natbib.pdf").outcome == "ingested"


def test_too_large_file_is_refused_before_reading(tmp_path: Path, local_embedder) -> None:
    c = container_for(make_settings(tmp_path / "data", documents={"max_file_mb": 0.1}), local_embedder)
    result = c.ingestion.ingest_file("alice", DATA / "natbib.pdf")
    assert result.outcome == "failed" and result.reason == "too_large" and "limit" in (result.message or "")
    c.close()


def test_delete_removes_points_row_and_file(container: Container) -> None:
    result = container.ingestion.ingest_file("alice", DATA / "jbtxdoc.pdf")
    doc = container.registry.get("alice", result.doc_id)
    container.ingestion.delete("alice", doc.id)
    assert container.vector_store.count("alice") == 0
    assert container.registry.list("alice") == []
    assert not container.files.exists("alice", doc.sha256)


def test_ingestion_moves_its_metrics(container: Container, tmp_path: Path) -> None:
    from prometheus_client import REGISTRY

    from tests.fixtures import pdf_factory

    def value(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = {
        "ok": value("pdfqa_ingested_files_total", outcome="ingested"),
        "failed": value("pdfqa_ingested_files_total", outcome="failed"),
        "pages": value("pdfqa_ingested_pages_total"),
        "chunks": value("pdfqa_ingested_chunks_total"),
        "seconds": value("pdfqa_ingest_seconds_count"),
    }
    good = container.ingestion.ingest_file("metrics-user", DATA / "natbib.pdf")
    bad = container.ingestion.ingest_file("metrics-user", pdf_factory.not_a_pdf(tmp_path))
    assert good.outcome == "ingested" and bad.outcome == "failed"
    assert value("pdfqa_ingested_files_total", outcome="ingested") == before["ok"] + 1
    assert value("pdfqa_ingested_files_total", outcome="failed") == before["failed"] + 1
    assert value("pdfqa_ingest_failures_total", reason=bad.reason or "") >= 1
    assert value("pdfqa_ingested_pages_total") == before["pages"] + good.pages
    assert value("pdfqa_ingested_chunks_total") == before["chunks"] + good.chunks
    assert value("pdfqa_ingest_seconds_count") == before["seconds"] + 2


def test_reingesting_unchanged_files_is_20x_faster_and_adds_no_chunk(container: Container) -> None:
    names = ("natbib.pdf", "jbtxdoc.pdf")
    started = time.perf_counter()
    first = [container.ingestion.ingest_file("alice", DATA / name) for name in names]
    first_s = time.perf_counter() - started
    assert [r.outcome for r in first] == ["ingested", "ingested"]
    chunks = container.vector_store.count("alice")
    assert chunks == sum(r.chunks for r in first) > 0

    started = time.perf_counter()
    again = [container.ingestion.ingest_file("alice", DATA / name) for name in names]
    again_s = time.perf_counter() - started
    assert [r.outcome for r in again] == ["unchanged", "unchanged"]
    assert container.vector_store.count("alice") == chunks
    assert len(container.registry.list("alice")) == 2
    assert first_s / again_s >= 20, (first_s, again_s)


def test_pages_stream_through_a_bounded_pipeline(
    container: Container, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader is never more than a few batches ahead of the model: a long PDF's text is never
    all in memory. With everything read first (as before), it would be 400 pages ahead."""
    from app.documents import indexing

    monkeypatch.setattr(indexing, "EMBED_BATCH", 16)
    pdf = pdf_factory.big_pdf(tmp_path, 400)
    read = {"pages": 0}
    real_open = indexing.open_pdf

    def counting_open(*args, **kwargs):
        opened = real_open(*args, **kwargs)
        pages = iter(opened)

        def counted():
            for page in pages:
                read["pages"] += 1
                yield page

        opened._pages = counted()
        return opened

    ahead: list[int] = []
    embedder = container.embedder
    real_embed = embedder.embed_documents

    def embed(texts, owner=None, token_counts=None):
        embedded_up_to = max(int(m) for t in texts for m in re.findall(r"marker-(\d{5})", t))
        ahead.append(read["pages"] - embedded_up_to)
        return real_embed(texts, owner, token_counts)

    monkeypatch.setattr(indexing, "open_pdf", counting_open)
    monkeypatch.setattr(embedder, "embed_documents", embed)
    result = container.ingestion.ingest_file("alice", pdf)
    assert result.outcome == "ingested" and result.pages == 400
    assert len(ahead) >= 400 // 16
    # Pages read beyond the batch being embedded: at most the 2 batches queued and the one being
    # chunked (a page is at least one chunk), plus the reader's current page.
    assert max(ahead) <= 16 * 3 + 2, ahead
    assert container.vector_store.count("alice") == result.chunks
