"""Caches never cross tenants (issue 23, item 9).

Over real HTTP against `python -m app serve` with the real embedding model: alice asks a question,
then bob asks the very same one. Bob's question must be embedded for him (the embedding-call
counter on /metrics moves, and with a paid provider his tokens are counted) and answered for him
(the LLM is called; the answer is not served from alice's cache entry). Alice asking again is
served from her own caches, which shows the counters would have seen a shared hit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.answering.cache import AnswerCache
from app.documents.registry import DocumentRegistry
from app.storage.db import Database
from tests.fixtures import pdf_factory
from tests.fixtures.cli import run_app
from tests.fixtures.gradio_http import fn_index, run_event, signed_in, upload_and_wait
from tests.fixtures.llm_server import FakeOpenAIServer
from tests.fixtures.server import RunningServer, running_server

ALICE = ("alice", "alices-long-password")
BOB = ("bob", "bobs-long-password")
QUESTION = "How often is the zebra valve calibrated?"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, FakeOpenAIServer]]:
    with FakeOpenAIServer() as llm:
        env = {"APP_LLM__API_BASE": llm.base_url, "APP_LLM__API_KEY": "sk-test", "APP_LLM__MODEL": "test-chat"}
        with running_server(tmp_path_factory.mktemp("caches") / "data", env=env) as server:
            for name, password in (ALICE, BOB):
                added = run_app(server.data_dir, "users", "add", name, stdin=password + "\n")
                assert added.returncode == 0, added.stderr
            yield server, llm


def _metric(server: RunningServer, name: str, label: str, value: str) -> float:
    text = httpx.get(f"{server.url}/metrics", timeout=30).text
    found = re.search(rf'^{name}{{{label}="{value}"}} ([0-9.e+]+)$', text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def _query_embeddings(server: RunningServer) -> float:
    return _metric(server, "pdfqa_embedding_calls_total", "purpose", "query")


def _cached_answers(server: RunningServer) -> float:
    return _metric(server, "pdfqa_questions_total", "outcome", "cached")


def _upload(client: httpx.Client, folder: Path) -> None:
    pdf = pdf_factory.text_pdf(
        folder, ["The zebra valve is calibrated every week by the maintenance team."], name="zebra.pdf"
    )
    upload_and_wait(client, pdf)


def _ask(client: httpx.Client) -> str:
    result = run_event(client, fn_index(client, "ask"), [QUESTION, [], None, []])
    assert result.success, result.error
    return str(result.output[0])


def test_the_same_question_from_another_user_is_embedded_and_answered_for_them(
    served: tuple[RunningServer, FakeOpenAIServer], tmp_path: Path
) -> None:
    server, llm = served
    alice, bob = signed_in(server, *ALICE), signed_in(server, *BOB)
    _upload(alice, tmp_path / "a")
    _upload(bob, tmp_path / "b")

    embedded, cached, chats = _query_embeddings(server), _cached_answers(server), llm.counts["chat"]
    assert "zebra" in _ask(alice).lower()
    assert _query_embeddings(server) == embedded + 1  # alice's question, embedded once
    assert llm.counts["chat"] == chats + 1

    assert "zebra" in _ask(alice).lower()  # alice again: both her caches answer it
    assert _query_embeddings(server) == embedded + 1
    assert _cached_answers(server) == cached + 1
    assert llm.counts["chat"] == chats + 1

    assert "zebra" in _ask(bob).lower()  # bob, the same words: nothing of alice's is used
    assert _query_embeddings(server) == embedded + 2
    assert _cached_answers(server) == cached + 1
    assert llm.counts["chat"] == chats + 2


def test_the_answer_cache_is_looked_up_per_owner(tmp_path: Path) -> None:
    """Even under the very same key, one owner's cached answer is not another's."""
    db = Database(f"sqlite:///{tmp_path / 'app.db'}")
    try:
        db.create_all()
        cache = AnswerCache(db, DocumentRegistry(db), ttl_s=3600, settings_tag="t")
        key = cache.key("alice", QUESTION, None)
        assert key == cache.key("bob", QUESTION, None)  # no documents: the key alone does not separate them
        cache.put("alice", key, {"text": "alice's answer"})
        assert cache.get("alice", key) == {"text": "alice's answer"}
        assert cache.get("bob", key) is None
    finally:
        db.close()
