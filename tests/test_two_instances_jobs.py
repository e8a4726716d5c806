"""Ingestion across two real app processes sharing PostgreSQL and an S3-compatible store (moto's
server on 127.0.0.1): an upload taken by one instance is indexed by the other's worker, its progress
shows on both, and the other answers from it; an instance killed with SIGKILL mid-ingestion has its
job finished once by the survivor.

Each process keeps its own embedded vector store (no Qdrant server can run on this machine, and an
embedded store is one process's): so the instance that answers is the one whose worker indexed the
document. With a Qdrant server every instance would answer from it; see README."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from app.storage.db import Database, IngestJob
from tests.conftest import DATA, container_for, make_settings
from tests.fixtures.cli import run_app
from tests.fixtures.gradio_http import fn_index, run_event, signed_in
from tests.fixtures.postgres import fresh_database
from tests.fixtures.s3_server import ACCESS_KEY, REGION, SECRET_KEY, S3Server, s3_server
from tests.fixtures.server import RunningServer, running_server

BOB = ("bob", "bobs-long-password")
FILE_META = {"_type": "gradio.FileData"}


@dataclass
class Shared:
    env: dict[str, str]
    database_url: str
    s3: S3Server
    bucket: str
    root: Path

    def files_settings(self) -> dict[str, str]:
        return self.s3.settings(self.bucket)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    with fresh_database() as url, s3_server() as s3:
        bucket = s3.new_bucket()
        env = {
            "APP_DATABASE__URL": url,
            "APP_FILES__URL": f"s3://{bucket}/pdfqa",
            "APP_FILES__ENDPOINT_URL": s3.endpoint,
            "APP_FILES__REGION": REGION,
            "APP_FILES__ACCESS_KEY": ACCESS_KEY,
            "APP_FILES__SECRET_KEY": SECRET_KEY,
            "APP_SERVER__INGEST_LEASE_S": "3",
        }
        yield Shared(env, url, s3, bucket, tmp_path_factory.mktemp("shared-jobs"))


def _upload(server: RunningServer, pdf: Path) -> None:
    bob = signed_in(server, *BOB)
    sent = bob.post("/gradio_api/upload", files=[("files", (pdf.name, pdf.read_bytes()))])
    assert sent.status_code == 200, sent.text
    queued = run_event(bob, fn_index(bob, "upload"), [[{"path": sent.json()[0], "meta": FILE_META}]])
    assert queued.success, queued.error


def _jobs(server: RunningServer) -> list[list[str]]:
    bob = signed_in(server, *BOB)
    result = run_event(bob, fn_index(bob, "jobs"), [])
    assert result.success, result.error
    return [[str(cell) for cell in row] for row in result.output[0]["data"]]


def _job_row(shared: Shared, name: str) -> IngestJob | None:
    db = Database(shared.database_url, pool_size=1)
    try:
        with db.session() as s:
            row = s.scalar(select(IngestJob).where(IngestJob.owner == "bob", IngestJob.name == name))
            if row is not None:
                s.expunge(row)
            return row
    finally:
        db.close()


def test_an_upload_on_one_instance_is_indexed_and_answered_by_the_other(shared: Shared) -> None:
    """A takes uploads only (ingest_workers 0); B's worker indexes what A accepted. The progress
    shows on B and on A alike, and B answers from the document."""
    a_env = {**shared.env, "APP_SERVER__INGEST_WORKERS": "0"}
    b_env = {**shared.env, "APP_SERVER__INGEST_WORKERS": "1"}
    with (
        running_server(shared.root / "a" / "data", env=a_env) as a,
        running_server(shared.root / "b" / "data", env=b_env) as b,
    ):
        assert run_app(a.data_dir, "users", "add", BOB[0], stdin=BOB[1] + "\n", env=a_env).returncode == 0
        _upload(a, DATA / "natbib.pdf")
        seen_on_b: list[str] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            rows = _jobs(b)
            assert len(rows) == 1 and rows[0][0] == "natbib.pdf", rows
            seen_on_b.append(rows[0][1])
            if rows[0][1].startswith(("done", "failed")):
                break
            time.sleep(0.2)
        assert seen_on_b[-1].startswith("done"), seen_on_b
        assert len(seen_on_b) > 1, "B never showed the job in progress"
        assert _jobs(a) == _jobs(b)  # the same progress, read from the shared database
        job = _job_row(shared, "natbib.pdf")
        assert job is not None and f":{b.process.pid}:" in str(job.lease_owner)  # B's worker did it

        bob_b = signed_in(b, *BOB)
        answer = run_event(bob_b, fn_index(bob_b, "ask"), ["How do I get superscript citations?", [], None, []])
        assert answer.success, answer.error
        assert "natbib.pdf" in json.dumps(answer.output)
        stored = shared.s3.keys(shared.bucket)
        assert len([k for k in stored if k.endswith(".pdf")]) == 1  # the original lives in the bucket
        assert not (a.data_dir / "files").exists() and not (b.data_dir / "files").exists()


def test_a_job_of_an_instance_killed_mid_ingestion_is_finished_once_by_the_other(shared: Shared) -> None:
    """C and D both index. Whichever claims bob's 196-page upload is killed with SIGKILL while it
    embeds; the other takes the job over when the lease (3 s here) expires and finishes it: one job
    done in two attempts, one ready document, its chunks stored once."""
    env = {**shared.env, "APP_SERVER__INGEST_WORKERS": "1"}
    pdf = DATA / "bashref.pdf"
    with (
        running_server(shared.root / "c" / "data", env=env) as c,
        running_server(shared.root / "d" / "data", env=env) as d,
    ):
        run_app(c.data_dir, "users", "add", BOB[0], stdin=BOB[1] + "\n", env=env)  # (may exist: same database)
        _upload(c, pdf)
        deadline = time.monotonic() + 120
        job = None
        while time.monotonic() < deadline:
            job = _job_row(shared, pdf.name)
            if job is not None and job.status == "running" and job.stage == "embedding" and job.done > 0:
                break
            time.sleep(0.1)
        assert job is not None and job.stage == "embedding", job and (job.status, job.stage)
        victim, survivor = (c, d) if f":{c.process.pid}:" in str(job.lease_owner) else (d, c)
        assert f":{victim.process.pid}:" in str(job.lease_owner)
        os.kill(victim.process.pid, signal.SIGKILL)
        victim.process.wait(10)

        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            job = _job_row(shared, pdf.name)
            assert job is not None
            if job.status in ("done", "failed"):
                break
            time.sleep(0.5)
        assert job is not None and (job.status, job.attempts) == ("done", 2), (job.status, job.attempts)
        assert f":{survivor.process.pid}:" in str(job.lease_owner)
        assert "ingestion job taken over" in survivor.log()
        bob = signed_in(survivor, *BOB)
        docs = run_event(bob, fn_index(bob, "documents"), [])
        rows = [r for r in docs.output[0]["data"] if r[0] == pdf.name]
        assert len(rows) == 1, rows  # one document, ready once
        chunks = int(rows[0][2])
        survivor_dir = survivor.data_dir
    # The survivor's store (opened once the server has stopped): the document's chunks, once each.
    settings = make_settings(survivor_dir, database={"url": shared.database_url}, files=shared.files_settings())
    container = container_for(settings)
    try:
        [doc] = [x for x in container.registry.list("bob") if x.name == pdf.name]
        assert doc.status == "ready" and doc.chunks == chunks > 0
        assert container.vector_store.count("bob", doc_ids=[doc.id]) == chunks
    finally:
        container.close()
