"""Ingestion jobs in the database: claimed with a lease by any instance's worker, one at a time per
user, taken over when a worker dies, on SQLite and PostgreSQL. Two queues over one database stand
for two app instances (they share the embedded vector store here; see README)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from loguru import logger
from sqlalchemy import update

from app.container import Container
from app.documents.jobs import IngestionQueue
from app.storage.db import Database, IngestJob, utcnow
from tests.conftest import DATA
from tests.fixtures.postgres import fresh_database


def queue(c: Container, lease_s: float = 60) -> IngestionQueue:
    return IngestionQueue(c.db, c.ingestion, c.registry, c.files, workers=0, lease_s=lease_s)


def test_a_double_upload_on_two_instances_yields_one_document(container: Container) -> None:
    a, b = queue(container), queue(container)
    a.submit("alice", DATA / "natbib.pdf", "natbib.pdf")
    b.submit("alice", DATA / "natbib.pdf", "natbib.pdf")
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda q: q.run_one(), (a, b)))
    while a.run_one() or b.run_one():  # a job deferred because alice's other job was running
        pass
    docs = container.registry.list("alice")
    assert [(d.name, d.status) for d in docs] == [("natbib.pdf", "ready")]
    jobs = a.jobs("alice")
    assert sorted(j.message for j in jobs) == ["ingested", "unchanged"] and all(j.stage == "done" for j in jobs)
    assert container.vector_store.count("alice") == docs[0].chunks


def test_the_workers_log_lines_carry_the_uploads_request_id(container: Container) -> None:
    """The upload's request id travels with its job, so one id follows a file from the upload
    request to the worker's "ingest done" line, on whichever instance ran it."""
    lines: list[tuple[str, str]] = []
    sink = logger.add(lambda m: lines.append((m.record["message"], m.record["extra"].get("request_id", ""))))
    try:
        other = queue(container)  # another "instance" runs the job
        queue(container).submit("alice", DATA / "natbib.pdf", "natbib.pdf", request_id="upload-req-42")
        assert other.run_one()
    finally:
        logger.remove(sink)
    done = [rid for message, rid in lines if message.startswith("ingest done")]
    assert done == ["upload-req-42"], lines[-5:]


def test_one_users_jobs_run_one_at_a_time_across_instances(container: Container, tmp_path: Path) -> None:
    a, b = queue(container), queue(container)
    first = a.submit("alice", DATA / "natbib.pdf", "natbib.pdf")
    a.submit("alice", DATA / "jbtxdoc.pdf", "jbtxdoc.pdf")
    bobs = a.submit("bob", DATA / "natbib.pdf", "natbib.pdf")
    held = a.claim()
    assert held is not None and held.id == first.id
    other = b.claim()
    assert other is not None and other.id == bobs.id  # alice's second job waits; bob's does not
    assert b.claim() is None


def test_a_job_whose_worker_died_is_taken_over(container: Container) -> None:
    dead, alive = queue(container, lease_s=60), queue(container)
    job = dead.submit("carol", DATA / "natbib.pdf", "natbib.pdf")
    claimed = dead.claim()  # ... and the instance is killed: it never finishes or renews the lease
    assert claimed is not None and claimed.id == job.id
    # It had started: a half-indexed document with part of the vectors is left behind.
    with container.files.local_copy("carol", claimed.sha256) as local:
        doc = container.registry.create("carol", "natbib.pdf", claimed.sha256, local.stat().st_size, None)
    container.registry.update(doc.id, status="indexing")
    assert alive.claim() is None  # the lease is still running
    with container.db.session() as s:
        s.execute(update(IngestJob).where(IngestJob.id == job.id).values(lease_until=utcnow() - timedelta(seconds=1)))
    assert alive.run_one()
    docs = container.registry.list("carol")
    assert [(d.status, d.name) for d in docs] == [("ready", "natbib.pdf")]
    assert container.vector_store.count("carol") == docs[0].chunks  # no duplicate chunks
    assert [j.stage for j in alive.jobs("carol")] == ["done"]


def test_failed_jobs_report_and_leave_no_stored_file(container: Container, tmp_path: Path) -> None:
    from tests.fixtures import pdf_factory

    q = queue(container)
    job = q.submit("dan", pdf_factory.not_a_pdf(tmp_path), "junk.pdf")
    assert q.run_one()
    [view] = q.jobs("dan")
    assert view.stage == "failed" and view.message
    assert not container.files.exists("dan", _sha(container, job.id))


def _sha(c: Container, job_id: int) -> str:
    with c.db.session() as s:
        row = s.get(IngestJob, job_id)
        assert row is not None
        return row.sha256


@pytest.fixture
def pg() -> Iterator[Database]:
    with fresh_database() as url:
        db = Database(url, pool_size=20)
        db.migrate()
        yield db
        db.close()


def test_claims_are_exclusive_on_postgresql(pg: Database) -> None:
    """20 workers in 2 'instances' race for 30 jobs of 30 users: each job is claimed exactly once."""
    with pg.session() as s:
        for i in range(30):
            s.add(
                IngestJob(owner=f"user{i}", name="x.pdf", sha256="0" * 64, status="queued", stage="queued", message="")
            )
    instances: list[Any] = [IngestionQueue(pg, None, None, None, workers=0) for _ in range(2)]  # type: ignore[arg-type]
    claimed: list[int] = []
    lock = threading.Lock()

    def worker(q: IngestionQueue) -> None:
        while (job := q.claim()) is not None:
            with lock:
                claimed.append(job.id)

    with ThreadPoolExecutor(20) as pool:
        list(pool.map(worker, [instances[i % 2] for i in range(20)]))
    assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 30


def test_one_user_is_never_claimed_twice_at_once_on_postgresql(pg: Database) -> None:
    with pg.session() as s:
        for _ in range(10):
            s.add(_job("alice"))
    instances: list[Any] = [IngestionQueue(pg, None, None, None, workers=0) for _ in range(2)]  # type: ignore[arg-type]
    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(lambda i: instances[i % 2].claim(), range(10)))
    assert len([r for r in results if r is not None]) == 1


def _job(owner: str) -> IngestJob:
    return IngestJob(owner=owner, name="x.pdf", sha256="0" * 64, status="queued", stage="queued", message="")


def _nice_of_threads() -> dict[int, int]:
    """Thread id -> nice value of every thread of this process (Linux /proc)."""
    nices = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        nices[int(task.name)] = int(fields[16])
    return nices


def test_background_ingestion_runs_at_lower_priority_with_its_model_threads(container: Container) -> None:
    """server.ingest_nice: the worker thread and the threads it starts (the model's own threads, which
    embeds the chunks) yield the CPU to the threads that answer questions; this thread does not."""
    container.embedder.load()  # as a server does: the model's first threads are made at this thread's priority
    before = set(_nice_of_threads())
    q = IngestionQueue(container.db, container.ingestion, container.registry, container.files, workers=1, nice=7)
    try:
        job = q.submit("alice", DATA / "natbib.pdf", "natbib.pdf")
        seen: dict[int, int] = {}
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and q.jobs("alice")[0].stage not in ("done", "failed"):
            seen.update({tid: n for tid, n in _nice_of_threads().items() if tid not in before})
            time.sleep(0.05)
        assert [(j.id, j.stage) for j in q.jobs("alice")] == [(job.id, "done")]
    finally:
        q.close()
    worker = q._threads[0].native_id
    assert seen.get(worker) == 7
    assert sum(1 for tid, n in seen.items() if n == 7 and tid != worker) >= 1  # the model's threads followed
    # ONNX Runtime's workers keep the priority of the thread that made their session: ingestion got its own.
    assert 7 in container.embedder.embed._sessions
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == 0
