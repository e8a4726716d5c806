"""Answering through the OpenAI-compatible test server (real HTTP, streaming, usage, failures)."""

from collections.abc import Iterator

import pytest

from app.container import Container
from app.errors import LLMError
from app.models.embeddings import EmbeddingModel
from tests.conftest import DATA, container_for, make_settings
from tests.fixtures.llm_server import FakeOpenAIServer

QUESTION = "Which natbib option gives superscript numbers for citations, like Nature?"


@pytest.fixture(scope="module")
def ready(
    tmp_path_factory: pytest.TempPathFactory, local_embedder: EmbeddingModel, llm_server: FakeOpenAIServer
) -> Iterator[Container]:
    """alice has natbib.pdf and jbtxdoc.pdf; answers come from the test LLM server."""
    settings = make_settings(
        tmp_path_factory.mktemp("answering") / "data",
        llm={
            "api_base": llm_server.base_url,
            "api_key": "sk-test-server",
            "model": "test-chat",
            "max_retries": 0,
            "timeout_s": 5,
        },
    )
    c = container_for(settings, local_embedder)
    for name in ("natbib.pdf", "jbtxdoc.pdf"):
        assert c.ingestion.ingest_file("alice", DATA / name).outcome == "ingested"
    yield c
    c.close()


def test_streamed_answer_with_citations_and_usage(ready: Container, llm: FakeOpenAIServer) -> None:
    before = ready.usage.totals("alice").prompt_tokens
    llm.reply_fn = lambda messages: "Use the super option [1]. It prints superscript numbers [2]."
    events = list(ready.answers.stream("alice", QUESTION))
    deltas = [e.delta for e in events if e.answer is None]
    answer = events[-1].answer
    assert answer is not None and len(deltas) > 3  # streamed in pieces
    assert "".join(deltas) == answer.answer
    assert answer.mode == "generated"
    assert [c.number for c in answer.citations] == [1, 2]
    assert all(c.file == "natbib.pdf" and c.page >= 1 and c.text for c in answer.citations)
    assert answer.usage["prompt_tokens"] > 0 and answer.usage["completion_tokens"] > 0
    assert ready.usage.totals("alice").prompt_tokens - before == answer.usage["prompt_tokens"]
    # The prompt carried the retrieved sources with their pages.
    endpoint, body = llm.requests[-1]
    prompt = body["messages"][-1]["content"]
    assert endpoint == "chat" and "natbib.pdf (p. " in prompt and body["stream"] is True


def test_japanese_question_gets_japanese_instructions(ready: Container, llm: FakeOpenAIServer) -> None:
    answer = ready.answers.ask(
        "alice", "crossref で参照される側のエントリは bib ファイルのどこに書く必要がありますか？"
    )
    body = llm.requests[-1][1]
    assert "jbtxdoc.pdf (p. " in body["messages"][-1]["content"]
    assert "same language as the question" in body["messages"][0]["content"]
    assert answer.mode == "generated"


def test_llm_failure_is_a_clear_error(ready: Container, llm: FakeOpenAIServer) -> None:
    llm.fail_next(5, 500, endpoint="chat")
    with pytest.raises(LLMError, match="HTTP 500") as caught:
        ready.answers.ask("alice", QUESTION)
    assert "Traceback" not in str(caught.value) and "sk-test" not in str(caught.value)


def test_llm_rate_limit_and_timeout(ready: Container, llm: FakeOpenAIServer) -> None:
    llm.fail_next(5, 429, endpoint="chat")
    with pytest.raises(LLMError, match="rate-limited"):
        ready.answers.ask("alice", QUESTION)
    llm.reset()
    llm.timeout_sleep = 8
    llm.fail_next(1, "timeout", endpoint="chat")
    with pytest.raises(LLMError, match="did not answer in time"):
        ready.answers.ask("alice", QUESTION)


def test_follow_up_is_condensed_before_retrieval(ready: Container, llm: FakeOpenAIServer) -> None:
    from app.answering.service import Turn

    def reply(messages: list[dict]) -> str:
        if "Standalone question" in messages[-1]["content"]:
            return "How do I get superscript citation numbers with natbib?"
        return "Use the super option [1]."

    llm.reply_fn = reply
    history = [
        Turn("user", "What does natbib do?"),
        Turn("assistant", "It handles author-year citations [1]."),
    ]
    answer = ready.answers.ask("alice", "and superscripts?", history=history)
    assert answer.question == "How do I get superscript citation numbers with natbib?"
    assert llm.counts["chat"] == 2
    final_messages = llm.requests[-1][1]["messages"]
    assert any(m["content"] == "What does natbib do?" for m in final_messages)  # history within budget


def test_no_llm_configured_gives_passages_with_citations(library: Container) -> None:
    answer = library.answers.ask("bob", QUESTION)
    assert answer.mode == "retrieval_only"
    assert "Answer generation is off" in answer.answer
    assert answer.citations and {c.file for c in answer.citations} == {"natbib.pdf"}


def test_no_documents_is_said_plainly_without_calling_the_llm(ready: Container, llm: FakeOpenAIServer) -> None:
    answer = ready.answers.ask("carol", QUESTION)
    assert answer.mode == "no_documents" and llm.counts["chat"] == 0


def test_sources_in_the_prompt_name_their_section_when_the_pdf_has_an_outline() -> None:
    from app.answering.prompts import format_sources

    block = format_sources(
        [
            (1, "bashref.pdf", 111, "Bash Features > Controlling the Prompt", "\\W the basename of $PWD"),
            (2, "a.pdf", 3, "", "x"),
        ]
    )
    assert block.startswith("[1] bashref.pdf (p. 111, Bash Features > Controlling the Prompt)\n\\W the basename")
    assert "[2] a.pdf (p. 3)\nx" in block
