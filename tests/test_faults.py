"""Faults in the services a question or an upload depends on — the LLM sending garbage or never
stopping, the database locked, the file store full — each give a clear message, corrupt nothing,
and the app works again once the fault is gone. Real parts throughout: the OpenAI-compatible test
server over HTTP, SQLite with a second connection holding its lock, a size-limited folder."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.container import Container
from app.errors import LLMError, ServiceUnavailable
from app.models.embeddings import EmbeddingModel
from tests.conftest import DATA, container_for, make_settings
from tests.fixtures.llm_server import FakeOpenAIServer
from tests.fixtures.pdf_factory import text_pdf
from tests.test_chat import QUESTION, llm_settings, usage_rows


@pytest.fixture(scope="module")
def shared(
    tmp_path_factory: pytest.TempPathFactory, local_embedder: EmbeddingModel, llm_server: FakeOpenAIServer
) -> Iterator[Container]:
    """alice owns natbib.pdf; each test leaves the workspace as it found it (the faults pass)."""
    settings = make_settings(
        tmp_path_factory.mktemp("faults") / "data",
        llm=llm_settings(llm_server, max_tokens=60),
        database={"timeout_s": 1},
        cache={"answer_ttl_s": 0},
    )
    c = container_for(settings, local_embedder)
    assert c.ingestion.ingest_file("alice", DATA / "natbib.pdf").outcome == "ingested"
    yield c
    c.close()


@pytest.fixture
def workspace(shared: Container, llm: FakeOpenAIServer) -> Container:
    return shared


def _questions(c: Container) -> float:
    return {s.key: s.used for s in c.quotas.status("alice")}["questions_per_day"]


def _answers_again(c: Container, llm: FakeOpenAIServer) -> None:
    llm.reply_fn = lambda messages: "Use the super option [1]."
    answer, _ = c.chat.ask("alice", QUESTION)
    assert answer.answer.startswith("Use the super option")


def test_garbage_from_the_llm_is_a_clear_message(workspace: Container, llm: FakeOpenAIServer) -> None:
    before = _questions(workspace)
    conversations = workspace.conversations.list("alice")
    llm.fail_next(1, "garbage", endpoint="chat")
    with pytest.raises(LLMError, match="empty or unreadable answer"):
        workspace.chat.ask("alice", QUESTION)
    assert workspace.conversations.list("alice") == conversations  # nothing half-stored
    assert _questions(workspace) == before  # a failed question is not counted
    _answers_again(workspace, llm)


def test_an_endless_stream_is_cut_its_request_cancelled_and_its_tokens_recorded(
    workspace: Container, llm: FakeOpenAIServer
) -> None:
    before = len(usage_rows(workspace, "alice"))
    llm.fail_next(1, "endless", endpoint="chat")
    started = time.monotonic()
    with pytest.raises(LLMError, match="did not stop"):
        workspace.chat.ask("alice", QUESTION)
    assert time.monotonic() - started < 30
    served = llm.endless_served
    time.sleep(0.5)
    assert llm.endless_served - served <= 2  # the connection was closed: the provider stopped
    rows = usage_rows(workspace, "alice")[before:]
    assert len(rows) == 1 and rows[0][2] > 0 and rows[0][3] >= 60  # what was spent is on the bill
    _answers_again(workspace, llm)


def test_a_locked_database_is_a_clear_message_and_passes(
    workspace: Container, llm: FakeOpenAIServer, tmp_path: Path
) -> None:
    note = text_pdf(tmp_path, ["Gaskets are tightened to 40 newton metres."], name="gaskets.pdf")
    path = workspace.settings.database_url.removeprefix("sqlite:///")
    holder = sqlite3.connect(path, timeout=1)
    holder.execute("BEGIN EXCLUSIVE")  # another process holding the write lock (a backup, a stuck writer)
    try:
        with pytest.raises(ServiceUnavailable, match="database is unavailable or busy \\(locked\\)"):
            workspace.chat.ask("alice", QUESTION)
        result = workspace.ingestion.ingest_file("alice", note)
        assert result.outcome == "failed" and "database" in (result.message or "")
    finally:
        holder.rollback()
        holder.close()
    assert [d.name for d in workspace.registry.list("alice") if d.status == "ready"] == ["natbib.pdf"]
    _answers_again(workspace, llm)
    assert workspace.ingestion.ingest_file("alice", note).outcome == "ingested"
    workspace.ingestion.delete("alice", workspace.registry.find("alice", name="gaskets.pdf")[0].id)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 24 MB tmpfs when this process may mount one; else a loop-free stand-in is not possible,
    so the test fails with the reason (CI runs as root)."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)], capture_output=True)
    assert done.returncode == 0, f"cannot mount a size-limited tmpfs: {done.stderr.decode()}"
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_file_store_is_a_clear_message_and_loses_nothing(
    tmp_path: Path, small_disk: Path, local_embedder: EmbeddingModel
) -> None:
    settings = make_settings(tmp_path / "data", files={"url": str(small_disk / "files")})
    c = container_for(settings, local_embedder)
    try:
        first = text_pdf(tmp_path, ["Valves are calibrated every week."], name="valves.pdf")
        second = text_pdf(tmp_path, ["Pumps are serviced every month."], name="pumps.pdf")
        assert c.ingestion.ingest_file("alice", first).outcome == "ingested"
        filler = small_disk / "filler"
        with open(filler, "wb", buffering=0) as out:  # another tenant's data takes what is left
            try:
                while True:
                    out.write(b"\0" * 65536)
            except OSError:
                pass
        result = c.ingestion.ingest_file("alice", second)
        assert result.outcome == "failed" and "storage" in (result.message or "").lower(), result
        assert [d.name for d in c.registry.list("alice")] == ["valves.pdf"]  # no half-made document
        # Nothing but the first document's original is left: no partial copy (`<sha>.pdf.part-<pid>-<tid>`).
        stored = [p.name for p in (small_disk / "files").rglob("*") if p.is_file()]
        assert len(stored) == 1 and stored[0].endswith(".pdf"), stored
        assert c.retriever.retrieve("alice", "how often are valves calibrated").passages  # the rest still answers
        filler.unlink()
        assert c.ingestion.ingest_file("alice", second).outcome == "ingested"
    finally:
        c.close()
        shutil.rmtree(small_disk / "files", ignore_errors=True)
