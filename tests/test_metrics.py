"""Every metric moves when its event happens (questions by outcome, time to first token and to the
answer, retrieval, tokens by model and kind, embedding calls, Qdrant and database latency, active
sessions), and the shipped Grafana dashboard only graphs metrics that exist."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from app import metrics
from app.answering.prompts import NOT_FOUND_MARKER
from app.auth.sessions import SessionStore
from app.container import Container
from app.errors import LLMError, QuotaExceeded
from app.models.embeddings import EmbeddingModel
from tests.conftest import DATA, ROOT, container_for, make_settings
from tests.fixtures.llm_server import FakeOpenAIServer, reading_reply

QUESTION = "Which natbib option gives superscript numbers for citations?"


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def workspace(tmp_path: Path, local_embedder: EmbeddingModel, llm: FakeOpenAIServer) -> Iterator[Container]:
    settings = make_settings(
        tmp_path / "data",
        llm={"api_base": llm.base_url, "api_key": "sk-test", "model": "metrics-model", "max_retries": 0},
        quotas={"questions_per_day": 3},
    )
    c = container_for(settings, local_embedder)
    assert c.ingestion.ingest_file("alice", DATA / "natbib.pdf").outcome == "ingested"
    yield c
    c.close()


def ask(c: Container, question: str = QUESTION) -> Any:
    return c.chat.ask("alice", question)[0]


def test_question_metrics_move_with_each_outcome(workspace: Container, llm: FakeOpenAIServer) -> None:
    before = {o: value("pdfqa_questions_total", outcome=o) for o in ("answered", "cached", "quota", "failed")}
    first_token = value("pdfqa_first_token_seconds_count")
    answers = value("pdfqa_answer_seconds_count")
    retrievals = value("pdfqa_retrieval_seconds_count")
    searches = value("pdfqa_qdrant_seconds_count", op="search")
    statements = value("pdfqa_db_seconds_count")
    prompt = value("pdfqa_llm_tokens_total", model="metrics-model", kind="chat", type="prompt")
    queries = value("pdfqa_embedding_calls_total", purpose="query")

    answer = ask(workspace)
    assert value("pdfqa_questions_total", outcome="answered") == before["answered"] + 1
    assert value("pdfqa_first_token_seconds_count") == first_token + 1
    assert value("pdfqa_answer_seconds_count") == answers + 1
    assert value("pdfqa_retrieval_seconds_count") >= retrievals + 1
    assert value("pdfqa_qdrant_seconds_count", op="search") >= searches + 2  # dense and sparse
    assert value("pdfqa_db_seconds_count") > statements
    assert (
        value("pdfqa_llm_tokens_total", model="metrics-model", kind="chat", type="prompt")
        == prompt + answer.usage["prompt_tokens"]
    )
    assert value("pdfqa_embedding_calls_total", purpose="query") == queries + 1

    ask(workspace)  # the same question again: from the cache
    assert value("pdfqa_questions_total", outcome="cached") == before["cached"] + 1

    llm.fail_next(1, 500, "chat")
    with pytest.raises(LLMError):
        ask(workspace, "What does the round option do?")
    assert value("pdfqa_questions_total", outcome="failed") == before["failed"] + 1

    ask(workspace, "What does the sort option do?")  # a failed question did not count: this is the third
    with pytest.raises(QuotaExceeded):  # 3 questions a day, all used
        ask(workspace, "And the sort option?")
    assert value("pdfqa_questions_total", outcome="quota") == before["quota"] + 1


def test_abstained_and_not_found_questions_are_counted_as_such(workspace: Container, llm: FakeOpenAIServer) -> None:
    abstained = value("pdfqa_questions_total", outcome="abstained")
    not_found = value("pdfqa_questions_total", outcome="not_found")
    chats = llm.counts["chat"]
    answer = ask(workspace, "zxqv wvkp")  # matches nothing at all: refused before the model
    assert answer.mode == "abstained"
    assert value("pdfqa_questions_total", outcome="abstained") == abstained + 1
    assert llm.counts["chat"] == chats  # no LLM call for it
    llm.reply_fn = reading_reply(NOT_FOUND_MARKER)  # reads the sources and finds no answer in them
    answer = ask(workspace, "What port does a PostgreSQL server listen on by default?")
    assert answer.mode == "not_found" and llm.counts["chat"] == chats + 1
    assert value("pdfqa_questions_total", outcome="not_found") == not_found + 1


def test_ingestion_embeds_and_upserts_are_counted(tmp_path: Path, local_embedder: EmbeddingModel) -> None:
    c = container_for(make_settings(tmp_path / "data"), local_embedder)
    try:
        texts = value("pdfqa_embedded_texts_total", purpose="document")
        upserts = value("pdfqa_qdrant_seconds_count", op="upsert")
        result = c.ingestion.ingest_file("bob", DATA / "natbib.pdf")
        assert value("pdfqa_embedded_texts_total", purpose="document") == texts + result.chunks
        assert value("pdfqa_qdrant_seconds_count", op="upsert") > upserts
    finally:
        c.close()


def test_active_sessions_gauge_reads_the_database(container: Container) -> None:
    container.users.add("alice", "alices-long-password")
    store = SessionStore(container.db, idle_minutes=30, max_hours=1)
    metrics.ACTIVE_SESSIONS.set_function(store.count_active)
    assert value("pdfqa_active_sessions") == 0
    token = store.create("alice")
    store.create("alice")
    assert value("pdfqa_active_sessions") == 2
    store.revoke(token)
    assert value("pdfqa_active_sessions") == 1


def test_the_grafana_dashboard_only_uses_metrics_that_exist() -> None:
    dashboard = json.loads((ROOT / "app" / "web" / "grafana_dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert len(exprs) >= 8
    known = {m.name for m in REGISTRY.collect()}
    used = {re.sub(r"_(bucket|count|sum|total)$", "", n) for e in exprs for n in re.findall(r"pdfqa_[a-z_]+", e)}
    missing = {n for n in used if n not in known and n.removesuffix("_total") not in known}
    assert not missing, missing
