"""The OpenAI-compatible endpoint (issue 30), driven by the official `openai` Python SDK against a
running server: models, chat completions with and without streaming, citations as [n] in the text
and in a `citations` field, usage, a stored conversation continued, and the SDK's own error types
for a missing or revoked token, a token without the `ask` scope, an unknown model and a quota."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from tests.fixtures.api import ApiWorld, add_user, create_token
from tests.fixtures.cli import run_app
from tests.fixtures.llm_server import FakeOpenAIServer, default_reply

MODEL = "my-documents"


@pytest.fixture
def world(api_world: ApiWorld, llm_server: FakeOpenAIServer) -> Iterator[ApiWorld]:
    """The LLM behind the server cites its first source as [1], as a real model is asked to."""
    llm_server.reply_fn = lambda messages: default_reply(messages) + " [1]"
    yield api_world
    llm_server.reply_fn = default_reply


def _client(world: ApiWorld, token: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{world.url}/v1", api_key=token, max_retries=0, timeout=60)


def test_models_lists_my_documents(world: ApiWorld) -> None:
    client = _client(world, world.tokens["alice:read"])
    assert [m.id for m in client.models.list()] == [MODEL]
    assert client.models.retrieve(MODEL).id == MODEL


def test_a_completion_answers_from_the_documents_with_citations_and_usage(world: ApiWorld) -> None:
    client = _client(world, world.tokens["alice:ask"])
    done = client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "What is the zebra project budget?"},
        ],
        temperature=0.2,
    )
    text = done.choices[0].message.content or ""
    assert done.choices[0].finish_reason == "stop" and done.model == MODEL
    assert "[1]" in text and "forty-two thousand" in text
    extra: dict[str, Any] = done.model_extra or {}
    citations = extra["citations"]
    assert citations[0]["number"] == 1 and citations[0]["file"] == "zebra.pdf" and citations[0]["page"] >= 1
    assert citations[0]["document_id"] == world.documents["alice"]
    assert done.usage is not None and done.usage.prompt_tokens > 0 and done.usage.completion_tokens > 0
    assert done.usage.total_tokens == done.usage.prompt_tokens + done.usage.completion_tokens
    # A follow-up continues the stored conversation (an extra body field).
    follow = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Who leads it?"}],
        extra_body={"conversation_id": extra["conversation_id"]},
    )
    assert (follow.model_extra or {})["conversation_id"] == extra["conversation_id"]
    with world.client(world.tokens["alice:read"]) as rest:
        stored = rest.get(f"/api/v1/conversations/{extra['conversation_id']}").json()
    assert [m["content"] for m in stored["messages"] if m["role"] == "user"] == [
        "What is the zebra project budget?",
        "Who leads it?",
    ]


def test_a_streamed_completion_ends_with_citations_and_usage(world: ApiWorld) -> None:
    client = _client(world, world.tokens["alice:ask"])
    stream = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Who leads the zebra project?"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "Kowalski" in text and "[1]" in text
    last = next(c for c in reversed(chunks) if c.choices)
    assert last.choices[0].finish_reason == "stop"
    assert (last.model_extra or {})["citations"][0]["file"] == "zebra.pdf"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens > 0


def test_the_sdk_sees_its_own_error_types(world: ApiWorld) -> None:
    question = [{"role": "user", "content": "What is the budget?"}]
    with pytest.raises(openai.AuthenticationError):
        _client(world, "pdfqa_" + "x" * 43).chat.completions.create(model=MODEL, messages=question)  # type: ignore[arg-type]
    with pytest.raises(openai.PermissionDeniedError) as denied:
        _client(world, world.tokens["alice:read"]).chat.completions.create(model=MODEL, messages=question)  # type: ignore[arg-type]
    assert denied.value.code == "insufficient_scope"
    with pytest.raises(openai.NotFoundError):
        _client(world, world.tokens["alice:ask"]).chat.completions.create(model="gpt-4o", messages=question)  # type: ignore[arg-type]
    with pytest.raises(openai.BadRequestError):
        _client(world, world.tokens["alice:ask"]).chat.completions.create(
            model=MODEL,
            messages=[{"role": "system", "content": "no user message"}],
        )
    token = create_token(world.server.data_dir, "alice", "ask")
    assert run_app(world.server.data_dir, "tokens", "revoke", token[:12]).returncode == 0
    with pytest.raises(openai.AuthenticationError):
        _client(world, token).models.list()


def test_a_quota_is_a_rate_limit_error_with_its_reset(world: ApiWorld, tmp_path: Any) -> None:
    from tests.fixtures.api import upload_and_wait
    from tests.fixtures.pdf_factory import text_pdf

    data_dir = world.server.data_dir
    add_user(data_dir, "erin")
    token = create_token(data_dir, "erin", "write", "ask")
    with world.client(token) as rest:
        upload_and_wait(rest, text_pdf(tmp_path, ["Lynx notes. The lynx hunts at dusk."], name="lynx.pdf"))
    assert run_app(data_dir, "quotas", "set", "erin", "--questions-per-day", "0").returncode == 0
    with pytest.raises(openai.RateLimitError) as limited:
        _client(world, token).chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "When does the lynx hunt?"}]
        )
    body: Any = limited.value.body
    assert body["code"] == "quota_exceeded" and body["limit"] == "questions_per_day" and body["resets_at"]


def _condensing(llm: FakeOpenAIServer, standalone: dict[str, str]) -> Any:
    """A model that rewrites a follow-up as a real one would: the condense prompt (the app's
    CONDENSE) gets `standalone[word]` for the first word of `standalone` its conversation names."""

    def reply(messages: list[dict[str, Any]]) -> str:
        last = str(messages[-1].get("content"))
        if "Standalone question:" in last:
            history = last.split("Conversation:", 1)[1].split("Last user message:", 1)[0]
            return next((q for word, q in standalone.items() if word in history), "Who leads it?")
        return default_reply(messages) + " [1]"

    return reply


def test_earlier_turns_sent_by_the_client_make_a_follow_up_standalone(
    api_world: ApiWorld, llm_server: FakeOpenAIServer, tmp_path: Any
) -> None:
    """A chat client sends the whole conversation each time: the user and assistant messages before
    the last one are its history, so "Who leads it?" after a question on the otter project is
    condensed to the otter project's question, and retrieval finds the otter passage, not the
    zebra one the same words fit (as the web chat's follow-ups are)."""
    from tests.fixtures.api import upload_and_wait
    from tests.fixtures.pdf_factory import text_pdf

    data_dir = api_world.server.data_dir
    add_user(data_dir, "fern")
    token = create_token(data_dir, "fern", "write", "ask")
    pages = [
        "Zebra project staff. The zebra project is led by Marta Kowalski from the Warsaw office.",
        "Otter project. The otter project budget is nine thousand euros.",
        "Otter project staff. The otter project is led by Jan Novak from the Brno office.",
    ]
    with api_world.client(token) as rest:
        upload_and_wait(rest, text_pdf(tmp_path, pages, name="projects.pdf"))
    llm_server.reply_fn = _condensing(llm_server, {"otter": "Who leads the otter project?"})
    client = _client(api_world, token)
    try:
        seen = len(llm_server.requests)
        done = client.chat.completions.create(
            model=MODEL,
            messages=[
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "What is the otter project budget?"},
                {"role": "assistant", "content": "The otter project budget is nine thousand euros [1]."},
                {"role": "user", "content": "Who leads it?"},
            ],
        )
        chats = [body for endpoint, body in llm_server.requests[seen:] if endpoint == "chat"]
        assert len(chats) == 2, "a condensing call, then the answer"
        condense = str(chats[0]["messages"][-1]["content"])
        assert "Standalone question:" in condense and "otter project budget" in condense
        assert "You are terse." not in condense  # a system message is not conversation
        answer_prompt = json.dumps(chats[-1]["messages"])
        assert "Who leads the otter project?" in answer_prompt
        text = done.choices[0].message.content or ""
        assert "Novak" in text and "Kowalski" not in text, text
        # Streamed, the same; and a long conversation is bounded: only the last 20 earlier
        # messages, each cut to 2,000 characters, reach the condensing prompt.
        seen = len(llm_server.requests)
        old = [
            {"role": "user" if i % 2 == 0 else "assistant", "content": f"turn-{i:02d} about the zebra"}
            for i in range(30)
        ]
        long = {"role": "assistant", "content": "otter " + "x" * 50_000}
        stream = client.chat.completions.create(
            model=MODEL,
            messages=[*old, long, {"role": "user", "content": "Who leads it?"}],  # type: ignore[list-item]
            stream=True,
        )
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        chats = [body for endpoint, body in llm_server.requests[seen:] if endpoint == "chat"]
        condense = str(chats[0]["messages"][-1]["content"])
        assert "turn-29" in condense and "turn-11" in condense and "turn-10" not in condense
        assert "x" * 1990 in condense and "x" * 2000 not in condense
        assert "Novak" in text, text
    finally:
        llm_server.reply_fn = default_reply
