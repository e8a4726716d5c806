"""The question service (ChatService) against the OpenAI-compatible test server over real HTTP:
quota refusals make no LLM call, recorded tokens equal what the server reported, a cut stream still
records its tokens, the answer cache, the context budget and the accounting of paid embeddings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.container import Container
from app.errors import LLMError, QuotaExceeded
from app.models.embeddings import EmbeddingModel
from app.storage.db import UsageRecord
from tests.conftest import DATA, container_for, make_settings
from tests.fixtures.llm_server import FakeOpenAIServer, count_tokens, message_text

QUESTION = "Which natbib option gives superscript numbers for citations, like Nature?"


def llm_settings(server: FakeOpenAIServer, **extra: Any) -> dict[str, Any]:
    return {
        "api_base": server.base_url,
        "api_key": "sk-test-server",
        "model": "gpt-4o-mini",  # a model in the price table
        "max_retries": 0,
        "timeout_s": 10,
        **extra,
    }


@pytest.fixture
def workspace(tmp_path: Path, local_embedder: EmbeddingModel, llm: FakeOpenAIServer) -> Iterator[Container]:
    """alice owns natbib.pdf; quotas: 3 questions a day for everyone."""
    settings = make_settings(
        tmp_path / "data", llm=llm_settings(llm), quotas={"questions_per_day": 3, "reset_timezone": "Asia/Tokyo"}
    )
    c = container_for(settings, local_embedder)
    assert c.ingestion.ingest_file("alice", DATA / "natbib.pdf").outcome == "ingested"
    yield c
    c.close()


def reported_usage(server: FakeOpenAIServer) -> tuple[int, int]:
    """What the test server billed for its chat requests, recomputed from the recorded requests."""
    prompt = completion = 0
    for endpoint, body in server.requests:
        if endpoint == "chat":
            prompt += sum(count_tokens(message_text(m.get("content"))) for m in body["messages"])
            completion += count_tokens(server.reply_fn(body["messages"]))
    return prompt, completion


def usage_rows(c: Container, owner: str) -> list[tuple[str, str, int, int]]:
    with c.db.session() as s:
        rows = s.query(UsageRecord).filter(UsageRecord.owner == owner).order_by(UsageRecord.id)
        return [(r.kind, r.model, r.prompt_tokens, r.completion_tokens) for r in rows]


def test_recorded_tokens_equal_what_the_server_reported(workspace: Container, llm: FakeOpenAIServer) -> None:
    llm.reply_fn = lambda messages: "Use the super option [1]."
    _, conversation = workspace.chat.ask("alice", QUESTION)
    _, same = workspace.chat.ask("alice", "and for author-year?", conversation_id=conversation)
    assert same == conversation and llm.counts["chat"] == 3  # answer, condense, answer
    prompt, completion = reported_usage(llm)
    rows = usage_rows(workspace, "alice")
    assert [r[0] for r in rows] == ["chat", "condense", "chat"]
    assert sum(r[2] for r in rows) == prompt and sum(r[3] for r in rows) == completion
    status = {s.key: s.used for s in workspace.quotas.status("alice")}
    assert status["questions_per_day"] == 2 and status["tokens_per_day"] == prompt + completion
    # gpt-4o-mini: 0.15 / 0.60 per million tokens
    assert status["cost_per_month"] == pytest.approx((prompt * 0.15 + completion * 0.60) / 1e6, abs=2e-6)
    # The conversation was stored by the service, not by the caller.
    assert [m.role for m in workspace.conversations.messages("alice", conversation)] == ["user", "assistant"] * 2


def test_a_provider_reporting_no_usage_is_counted_by_estimate(workspace: Container, llm: FakeOpenAIServer) -> None:
    """Answers and follow-up condensing alike: tokens estimated by our tokenizer, never 0."""
    llm.reply_fn = lambda messages: "Use the super option [1]."
    llm.report_usage = False
    _, conversation = workspace.chat.ask("alice", QUESTION)
    workspace.chat.ask("alice", "and for author-year?", conversation_id=conversation)
    rows = usage_rows(workspace, "alice")
    assert [r[0] for r in rows] == ["chat", "condense", "chat"]
    prompt, _completion = reported_usage(llm)  # what the server would have billed
    for kind, _model, p, c in rows:
        assert p > 0 and c > 0, kind
    assert abs(sum(r[2] for r in rows) - prompt) <= 0.1 * prompt  # the estimate is close to the real count
    assert {s.key: s.used for s in workspace.quotas.status("alice")}["tokens_per_day"] > 0


def test_refused_question_makes_no_llm_request(workspace: Container, llm: FakeOpenAIServer) -> None:
    for i in range(3):
        workspace.chat.ask("alice", f"{QUESTION} ({i})")
    assert llm.counts["chat"] == 3
    tokyo = ZoneInfo("Asia/Tokyo")
    before = _next_midnight(datetime.now(tokyo))
    with pytest.raises(QuotaExceeded) as caught:
        workspace.chat.ask("alice", "One more question about natbib options?")
    after = _next_midnight(datetime.now(tokyo))  # the same unless the test ran across midnight in Tokyo
    assert llm.counts["chat"] == 3 and llm.counts["embeddings"] == 0
    e = caught.value
    assert e.limit == "questions_per_day" and e.value == 3 and e.timezone == "Asia/Tokyo"
    # The next midnight in Tokyo (15:00 UTC), not the server's or UTC's midnight.
    assert e.resets_at is not None and e.resets_at.utcoffset() == timedelta(0)
    assert e.resets_at in (before, after), (e.resets_at, before)
    local = e.resets_at.astimezone(tokyo)
    assert (local.hour, local.minute, local.utcoffset()) == (0, 0, timedelta(hours=9))
    assert f"{local:%Y-%m-%d} 00:00 Asia/Tokyo" in str(e)
    assert workspace.quotas.status("bob")[0].used == 0  # another user is not affected


def test_a_question_with_no_documents_is_not_charged(workspace: Container, llm: FakeOpenAIServer) -> None:
    """bob has no documents: each answer says so plainly, and none of them uses up his allowance of
    3 questions a day (alice's first question, with documents, does count)."""
    for i in range(5):
        answer, _ = workspace.chat.ask("bob", f"{QUESTION} ({i})")
        assert answer.mode == "no_documents"
    status = {s.key: s.used for s in workspace.quotas.status("bob")}
    assert status["questions_per_day"] == 0 and status["tokens_per_day"] == 0
    assert llm.counts["chat"] == 0
    workspace.chat.ask("alice", QUESTION)
    assert {s.key: s.used for s in workspace.quotas.status("alice")}["questions_per_day"] == 1


def _next_midnight(local: datetime) -> datetime:
    """The next local midnight after `local`, in UTC."""
    midnight = datetime(local.year, local.month, local.day, tzinfo=local.tzinfo) + timedelta(days=1)
    return midnight.astimezone(UTC)


def test_failed_answer_does_not_count_as_a_question(workspace: Container, llm: FakeOpenAIServer) -> None:
    llm.fail_next(1, 500, endpoint="chat")
    with pytest.raises(LLMError, match="HTTP 500"):
        workspace.chat.ask("alice", QUESTION)
    status = {s.key: s.used for s in workspace.quotas.status("alice")}
    assert status["questions_per_day"] == 0 and status["tokens_per_day"] == 0


def test_a_cut_stream_still_records_its_tokens(workspace: Container, llm: FakeOpenAIServer) -> None:
    reply = "Use the super option of natbib [1]. " * 20
    llm.reply_fn = lambda messages: reply
    llm.stream_chunk_delay = 0.01
    try:
        stream = workspace.chat.stream("alice", QUESTION)
        received = [next(stream).delta for _ in range(3)]
        stream.close()  # the browser went away
    finally:
        llm.stream_chunk_delay = 0.0
    assert all(received)
    rows = usage_rows(workspace, "alice")
    assert len(rows) == 1 and rows[0][0] == "chat"
    prompt, completion = reported_usage(llm)
    _, _, got_prompt, got_completion = rows[0]
    # Estimated with our tokenizer: the prompt was billed in full, the answer only in part.
    assert 0.5 * prompt < got_prompt < 1.5 * prompt
    assert 0 < got_completion < completion
    status = {s.key: s.used for s in workspace.quotas.status("alice")}
    assert status["questions_per_day"] == 1 and status["tokens_per_day"] == got_prompt + got_completion


def test_cached_answer_makes_no_llm_request_until_documents_change(workspace: Container, llm: FakeOpenAIServer) -> None:
    workspace.quotas.set_limits("alice", questions_per_day=None)
    llm.reply_fn = lambda messages: "Use the super option [1]."
    first, _ = workspace.chat.ask("alice", QUESTION)
    assert llm.counts["chat"] == 1 and not first.cached
    respelled = "  which NATBIB option gives superscript numbers for citations, like nature "
    again, _ = workspace.chat.ask("alice", respelled)
    assert llm.counts["chat"] == 1 and again.cached and again.answer == first.answer
    assert again.citations == first.citations and again.usage["total_tokens"] == 0
    assert {s.key: s.used for s in workspace.quotas.status("alice")}["questions_per_day"] == 2
    # Uploading another document invalidates the cache...
    assert workspace.ingestion.ingest_file("alice", DATA / "jbtxdoc.pdf").outcome == "ingested"
    after_upload, _ = workspace.chat.ask("alice", QUESTION)
    assert llm.counts["chat"] == 2 and not after_upload.cached
    # ...and so does deleting one.
    workspace.chat.ask("alice", QUESTION)
    assert llm.counts["chat"] == 2
    jbtx = next(d for d in workspace.registry.list("alice") if d.name == "jbtxdoc.pdf")
    workspace.ingestion.delete("alice", jbtx.id)
    after_delete, _ = workspace.chat.ask("alice", QUESTION)
    assert llm.counts["chat"] == 3 and not after_delete.cached
    # Another user never gets alice's cached answer.
    assert workspace.ingestion.ingest_file("bob", DATA / "natbib.pdf").outcome == "ingested"
    bobs, _ = workspace.chat.ask("bob", QUESTION)
    assert not bobs.cached and llm.counts["chat"] == 4


def test_context_is_trimmed_to_the_window(
    tmp_path: Path, local_embedder: EmbeddingModel, llm: FakeOpenAIServer
) -> None:
    settings = make_settings(
        tmp_path / "data",
        llm=llm_settings(llm, context_window=1400, max_tokens=300),
        retrieval={"top_k": 12},
        cache={"answer_ttl_s": 0},
    )
    c = container_for(settings, local_embedder)
    try:
        assert c.ingestion.ingest_file("alice", DATA / "natbib.pdf").outcome == "ingested"
        answer, _ = c.chat.ask("alice", QUESTION)
        _, body = llm.requests[-1]
        sources = body["messages"][-1]["content"].count("natbib.pdf (p. ")
        assert 1 <= sources < 12, sources
        prompt_tokens = sum(c.answers.count_tokens(message_text(m["content"])) for m in body["messages"])
        assert prompt_tokens <= 1400 - 300
        assert answer.usage["prompt_tokens"] > 0
    finally:
        c.close()


def test_paid_embeddings_are_accounted_and_repeated_questions_not_re_embedded(
    tmp_path: Path, llm: FakeOpenAIServer
) -> None:
    settings = make_settings(
        tmp_path / "data",
        llm=llm_settings(llm),
        embeddings={
            "provider": "openai",
            "api_base": llm.base_url,
            "api_key": "sk-test-server",
            "model": "text-embedding-3-small",
        },
        cache={"answer_ttl_s": 0},  # only the embedding cache
    )
    c = Container(settings)
    try:
        assert c.ingestion.ingest_file("alice", DATA / "natbib.pdf").outcome == "ingested"
        ingest_rows = usage_rows(c, "alice")
        assert ingest_rows and all(r[0] == "embed" and r[1] == "text-embedding-3-small" for r in ingest_rows)
        assert sum(r[2] for r in ingest_rows) > 1000
        before = llm.counts["embeddings"]
        c.chat.ask("alice", QUESTION)
        c.chat.ask("alice", QUESTION)
        assert llm.counts["embeddings"] - before == 1  # the second time the vector came from the LRU
        assert llm.counts["chat"] == 2
        day = c.usage.daily("alice")
        assert {r.kind for r in day} == {"embed", "chat"}
        embed_cost = sum(r.cost or 0 for r in day if r.kind == "embed")
        assert embed_cost > 0
        assert "text-embedding-3-small" in c.usage.csv(None)
    finally:
        c.close()


def test_unpriced_model_shows_tokens_without_cost(tmp_path: Path, llm: FakeOpenAIServer) -> None:
    settings = make_settings(tmp_path / "data", llm=llm_settings(llm, model="my-local-model"))
    c = Container(settings)
    try:
        from app.domain import Usage

        c.usage.record("alice", "chat", "my-local-model", Usage(100, 20))
        (row,) = c.usage.daily("alice")
        assert row.prompt_tokens == 100 and row.cost is None
        # What the Usage tab plots and the admin table shows: tokens, and no cost rather than 0.
        today = c.usage_report.daily("alice")[-1]
        assert today.tokens == 120 and today.cost is None
        assert c.usage_report.daily("alice")[0].cost == 0.0  # a day without usage costs nothing
        [alice] = [u for u in c.usage_report.everyone() if u.user == "alice"]
        assert alice.tokens == 120 and alice.cost is None
        c.usage.record("alice", "chat", "gpt-4o-mini", Usage(1_000_000, 0))  # a priced model beside it
        assert c.usage_report.daily("alice")[-1].cost == pytest.approx(0.15)
    finally:
        c.close()


def test_document_storage_and_page_limits(tmp_path: Path, local_embedder: EmbeddingModel) -> None:
    settings = make_settings(tmp_path / "data", quotas={"documents": 1, "pages_per_day": 30})
    c = container_for(settings, local_embedder)
    try:
        assert c.ingestion.ingest_file("alice", DATA / "natbib.pdf").outcome == "ingested"  # 26 pages
        refused = c.ingestion.ingest_file("alice", DATA / "jbtxdoc.pdf")
        assert refused.outcome == "failed" and refused.reason == "quota"
        assert "documents is 1" in refused.message
        c.quotas.set_limits("alice", documents=None)
        over_pages = c.ingestion.ingest_file("alice", DATA / "jbtxdoc.pdf")  # 14 more pages: 40 > 30
        assert over_pages.outcome == "failed" and over_pages.reason == "quota"
        assert "pages per day is 30" in over_pages.message
        assert c.registry.ready_ids("alice") and len(c.registry.ready_ids("alice")) == 1
        c.quotas.set_limits("alice", pages_per_day=None, storage_mb=0.5)
        too_big = c.ingestion.ingest_file("alice", DATA / "jbtxdoc.pdf")
        assert too_big.outcome == "failed" and "storage mb is 0.5" in too_big.message
        assert {s.key: s.used for s in c.quotas.status("alice")}["pages_per_day"] == 26
        c.quotas.set_limits("alice", storage_mb=None)
        assert c.ingestion.ingest_file("alice", DATA / "jbtxdoc.pdf").outcome == "ingested"
    finally:
        c.close()


def test_a_retry_replaces_the_answer_only_once_the_new_one_exists(workspace: Container, llm: FakeOpenAIServer) -> None:
    """A retry that fails keeps the old answer; one that succeeds replaces it (one turn, not two),
    and is answered without the old turn in its history (no condensing call)."""
    llm.reply_fn = lambda messages: "First answer [1]."
    _, conversation = workspace.chat.ask("alice", QUESTION)
    llm.fail_next(1, 500, "chat")
    with pytest.raises(LLMError):
        workspace.chat.ask("alice", QUESTION, conversation_id=conversation, retry=True, use_cache=False)
    kept = [m.content for m in workspace.conversations.messages("alice", conversation)]
    assert kept == [QUESTION, "First answer [1]."]
    llm.reply_fn = lambda messages: "Second answer [1]."
    chats = llm.counts["chat"]
    workspace.chat.ask("alice", QUESTION, conversation_id=conversation, retry=True, use_cache=False)
    assert llm.counts["chat"] == chats + 1  # the answer only: no history, so no condensing call
    now = [m.content for m in workspace.conversations.messages("alice", conversation)]
    assert now == [QUESTION, "Second answer [1]."]
