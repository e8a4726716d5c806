"""The OpenAI-compatible endpoint (issue 30), driven by the official `openai` Python SDK against a
running server: models, chat completions with and without streaming, citations as [n] in the text
and in a `citations` field, usage, a stored conversation continued, and the SDK's own error types
for a missing or revoked token, a token without the `ask` scope, an unknown model and a quota."""

from __future__ import annotations

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
