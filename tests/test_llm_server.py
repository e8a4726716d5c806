"""Tests of the fake OpenAI-compatible server, driven by the real ``openai`` client."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from tests.fixtures.llm_server import FakeOpenAIServer, default_reply, embed_text

REPO_ROOT = Path(__file__).resolve().parents[1]

CONTEXT_PROMPT = (
    "Context:\n"
    "[page 3] The Eiffel Tower is 330 metres tall. It was completed in 1889.\n"
    "\n"
    "[page 7] Paris is the capital of France.\n"
    "\n"
    "Question: How tall is the Eiffel Tower?"
)
MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "system", "content": "Answer only from the context and cite pages."},
    {"role": "user", "content": CONTEXT_PROMPT},
]


@pytest.fixture()
def srv() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


def make_client(srv: FakeOpenAIServer, **kwargs: object) -> openai.OpenAI:
    options: dict[str, object] = {
        "base_url": srv.base_url,
        "api_key": "test",
        "max_retries": 0,
        "timeout": 10.0,
    }
    options.update(kwargs)
    return openai.OpenAI(**options)  # type: ignore[arg-type]


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


# --------------------------------------------------------------------------- lifecycle


def test_base_url_port_and_explicit_start_stop() -> None:
    server = FakeOpenAIServer()
    assert not server.running
    server.start()
    try:
        assert server.port > 0
        assert server.base_url == f"http://127.0.0.1:{server.port}/v1"
        models = make_client(server).models.list()
        assert {m.id for m in models.data} == {"fake-chat", "fake-embedding"}
        assert server.counts["models"] == 1
    finally:
        server.stop()
    assert not server.running
    server.stop()  # idempotent


def test_unknown_path_is_404(srv: FakeOpenAIServer) -> None:
    resp = httpx.get(f"{srv.base_url}/nope", headers={"Authorization": "Bearer x"})
    assert resp.status_code == 404
    assert "error" in resp.json()


# --------------------------------------------------------------------------- chat


def test_chat_non_streaming_returns_reply_and_usage(srv: FakeOpenAIServer) -> None:
    client = make_client(srv)
    resp = client.chat.completions.create(model="my-model", messages=MESSAGES)
    assert resp.id.startswith("chatcmpl-")
    assert resp.object == "chat.completion"
    assert resp.model == "my-model"
    assert resp.created > 0
    choice = resp.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content == "According to the documents, The Eiffel Tower is 330 metres tall. [p. 3]"
    assert resp.usage is not None
    assert resp.usage.prompt_tokens > 0
    assert resp.usage.completion_tokens > 0
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + resp.usage.completion_tokens


def test_default_reply_echoes_question_and_finds_page_markers() -> None:
    assert default_reply([{"role": "user", "content": "What is RAG?"}]) == "According to the documents, What is RAG?"
    reply = default_reply(
        [
            {"role": "system", "content": "Context:\n東京は日本の首都です。人口が多い。 (p. 12)"},
            {"role": "user", "content": "首都はどこ？"},
        ]
    )
    assert reply == "According to the documents, 東京は日本の首都です。 [p. 12]"


def test_custom_reply_fn(srv: FakeOpenAIServer) -> None:
    seen: list[list[dict[str, object]]] = []

    def reply(messages: list[dict[str, object]]) -> str:
        seen.append(messages)
        return "custom answer"

    srv.reply_fn = reply
    resp = make_client(srv).chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert resp.choices[0].message.content == "custom answer"
    assert seen == [[{"role": "user", "content": "hi"}]]


def test_chat_streaming_with_usage(srv: FakeOpenAIServer) -> None:
    client = make_client(srv)
    expected = client.chat.completions.create(model="m", messages=MESSAGES).choices[0].message.content
    chunks = list(
        client.chat.completions.create(
            model="m",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    content_chunks = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(content_chunks) >= 5
    assert "".join(content_chunks) == expected
    assert all(c.object == "chat.completion.chunk" and c.id == chunks[0].id for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert last.usage.prompt_tokens > 0 and last.usage.completion_tokens > 0
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens
    assert all(c.usage is None for c in chunks[:-1])


def test_chat_streaming_without_usage_and_chunk_delay(srv: FakeOpenAIServer) -> None:
    srv.stream_chunk_delay = 0.05
    stamps: list[float] = []
    stream = make_client(srv).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "one two three four five"}], stream=True
    )
    pieces: list[str] = []
    for chunk in stream:
        assert chunk.usage is None
        assert chunk.choices  # no usage-only chunk without include_usage
        if chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
            stamps.append(time.monotonic())
    assert "".join(pieces) == "According to the documents, one two three four five"
    assert len(pieces) == 9  # word by word
    # Chunks arrive spread over time, i.e. really streamed.
    assert stamps[-1] - stamps[0] >= 0.05 * (len(pieces) - 1) * 0.8


def test_chat_rejects_missing_messages(srv: FakeOpenAIServer) -> None:
    resp = httpx.post(f"{srv.base_url}/chat/completions", json={"model": "m"}, headers={"Authorization": "Bearer t"})
    assert resp.status_code == 400
    assert resp.json()["error"]["type"] == "invalid_request_error"


# --------------------------------------------------------------------------- embeddings


def test_embeddings_deterministic_normalised_and_dimension(srv: FakeOpenAIServer) -> None:
    client = make_client(srv)
    texts = ["The cat sat on the mat.", "A cat sat on a mat", "Quarterly revenue grew by ten percent"]
    first = client.embeddings.create(model="e", input=texts)
    second = client.embeddings.create(model="e", input=texts)
    assert first.object == "list"
    assert first.model == "e"
    assert first.usage.prompt_tokens > 0 and first.usage.total_tokens == first.usage.prompt_tokens
    vecs = [d.embedding for d in first.data]
    assert [d.index for d in first.data] == [0, 1, 2]
    assert all(len(v) == 64 for v in vecs)
    assert all(math.isclose(math.sqrt(sum(x * x for x in v)), 1.0, rel_tol=1e-5) for v in vecs)
    for a, b in zip(vecs, (d.embedding for d in second.data), strict=True):
        assert a == pytest.approx(b)
    # Default (base64) and float encodings agree with the pure function.
    floats = client.embeddings.create(model="e", input=texts[0], encoding_format="float")
    assert floats.data[0].embedding == pytest.approx(embed_text(texts[0]), abs=1e-6)
    assert vecs[0] == pytest.approx(embed_text(texts[0]), abs=1e-6)
    assert cosine(vecs[0], vecs[1]) > cosine(vecs[0], vecs[2]) + 0.3


def test_embeddings_japanese_similarity(srv: FakeOpenAIServer) -> None:
    client = make_client(srv)
    resp = client.embeddings.create(
        model="e",
        input=["東京は日本の首都です。", "日本の首都は東京です。", "猫は魚が好きだ。"],
    )
    a, b, c = (d.embedding for d in resp.data)
    assert cosine(a, b) > cosine(a, c) + 0.3


def test_embeddings_dimensions_empty_string_and_token_ids(srv: FakeOpenAIServer) -> None:
    client = make_client(srv)
    resp = client.embeddings.create(model="e", input=["hello world", ""], dimensions=16)
    assert [len(d.embedding) for d in resp.data] == [16, 16]
    assert resp.data[1].embedding == pytest.approx([1.0] + [0.0] * 15)
    tokens = client.embeddings.create(model="e", input=[[1, 2, 3], [4, 5]])
    assert len(tokens.data) == 2
    assert tokens.data[0].embedding == pytest.approx(embed_text("1 2 3"), abs=1e-6)
    assert srv.embedded_texts == 4


def test_embeddings_rejects_bad_input(srv: FakeOpenAIServer) -> None:
    with pytest.raises(openai.BadRequestError):
        make_client(srv).embeddings.create(model="e", input=[])


# --------------------------------------------------------------------------- accounting


def test_counts_embedded_texts_requests_and_reset(srv: FakeOpenAIServer) -> None:
    client = make_client(srv)
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": "q"}])
    client.embeddings.create(model="e", input=["a", "b", "c"])
    client.embeddings.create(model="e", input="d")
    client.models.list()
    assert srv.counts == {"chat": 1, "embeddings": 2, "models": 1}
    assert srv.embedded_texts == 4
    reqs = srv.requests
    assert [endpoint for endpoint, _ in reqs] == ["chat", "embeddings", "embeddings", "models"]
    assert reqs[0][1]["messages"] == [{"role": "user", "content": "q"}]
    assert reqs[1][1]["input"] == ["a", "b", "c"]

    srv.latency = 5.0
    srv.fail_next(3, 500)
    srv.reset()
    assert srv.counts == {"chat": 0, "embeddings": 0, "models": 0}
    assert srv.embedded_texts == 0
    assert srv.requests == []
    assert srv.pending_failures == 0
    assert srv.latency == 0.0
    client.embeddings.create(model="e", input="x")
    assert srv.counts["embeddings"] == 1


# --------------------------------------------------------------------------- error injection


def test_429_is_retried_by_client(srv: FakeOpenAIServer) -> None:
    srv.fail_next(1, 429)
    resp = make_client(srv, max_retries=2).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "q"}]
    )
    assert resp.choices[0].message.content
    assert srv.counts["chat"] == 2  # the failed request is counted too


def test_429_without_retries_raises_rate_limit_error(srv: FakeOpenAIServer) -> None:
    srv.fail_next(1, 429)
    with pytest.raises(openai.RateLimitError) as info:
        make_client(srv).chat.completions.create(model="m", messages=[{"role": "user", "content": "q"}])
    assert info.value.status_code == 429
    assert info.value.response.headers["retry-after"] == "0"
    assert info.value.code == "rate_limit_exceeded"
    assert info.value.type == "rate_limit_error"
    assert srv.counts["chat"] == 1
    # Only one failure was queued.
    make_client(srv).chat.completions.create(model="m", messages=[{"role": "user", "content": "q"}])


def test_500_raises_internal_server_error(srv: FakeOpenAIServer) -> None:
    srv.fail_next(1, 500)
    with pytest.raises(openai.InternalServerError) as info:
        make_client(srv).embeddings.create(model="e", input="x")
    assert info.value.type == "server_error"
    assert srv.counts["embeddings"] == 1
    assert srv.embedded_texts == 0


def test_failure_endpoint_filter(srv: FakeOpenAIServer) -> None:
    client = make_client(srv)
    srv.fail_next(2, 500, endpoint="embeddings")
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": "q"}])
    client.models.list()
    assert srv.pending_failures == 2
    for _ in range(2):
        with pytest.raises(openai.InternalServerError):
            client.embeddings.create(model="e", input="x")
    client.embeddings.create(model="e", input="x")
    with pytest.raises(ValueError):
        srv.fail_next(1, "teapot")


def test_timeout_raises_api_timeout_error(srv: FakeOpenAIServer) -> None:
    srv.timeout_sleep = 2.0
    srv.fail_next(1, "timeout", endpoint="chat")
    client = make_client(srv, timeout=0.5)
    start = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "q"}])
    assert time.monotonic() - start < 1.5
    # The next request is served normally while the timed-out one still sleeps.
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": "q"}])
    assert srv.counts["chat"] == 2


def test_stop_interrupts_sleeping_handlers() -> None:
    server = FakeOpenAIServer(timeout_sleep=30.0).start()
    server.fail_next(1, "timeout")
    with pytest.raises(openai.APITimeoutError):
        make_client(server, timeout=0.3).embeddings.create(model="e", input="x")
    start = time.monotonic()
    server.stop()
    assert time.monotonic() - start < 2.0


# --------------------------------------------------------------------------- auth


def test_missing_or_empty_api_key_gives_401(srv: FakeOpenAIServer) -> None:
    client = make_client(srv)
    for auth in (openai.omit, "", "Bearer", "Basic dXNlcjpwdw=="):
        with pytest.raises(openai.AuthenticationError) as info:
            client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "q"}], extra_headers={"Authorization": auth}
            )
        assert info.value.status_code == 401
    assert srv.counts["chat"] == 4  # rejected requests are counted too
    resp = httpx.post(f"{srv.base_url}/embeddings", json={"input": "x"})
    assert resp.status_code == 401
    assert resp.json()["error"]["type"] == "invalid_request_error"
    assert httpx.get(f"{srv.base_url}/models").status_code == 401


def test_required_api_key() -> None:
    with FakeOpenAIServer(required_api_key="sk-right-key") as server:
        with pytest.raises(openai.AuthenticationError) as info:
            make_client(server, api_key="sk-wrong-key").models.list()
        assert info.value.code == "invalid_api_key"
        assert make_client(server, api_key="sk-right-key").models.list().data


# --------------------------------------------------------------------------- latency / concurrency


def test_latency_applies_to_every_response(srv: FakeOpenAIServer) -> None:
    srv.latency = 0.3
    start = time.monotonic()
    make_client(srv).embeddings.create(model="e", input="x")
    assert time.monotonic() - start >= 0.3


def test_concurrent_requests_are_served_in_parallel(srv: FakeOpenAIServer) -> None:
    srv.latency = 1.0
    client = make_client(srv)

    def ask(i: int) -> str:
        resp = client.chat.completions.create(model="m", messages=[{"role": "user", "content": f"question {i}"}])
        return resp.choices[0].message.content or ""

    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(pool.map(ask, range(20)))
    elapsed = time.monotonic() - start
    assert elapsed < 3.0, elapsed
    assert replies == [f"According to the documents, question {i}" for i in range(20)]
    assert srv.counts["chat"] == 20


# --------------------------------------------------------------------------- script mode


def test_script_mode_serves_until_terminated() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    with subprocess.Popen(
        [sys.executable, "-m", "tests.fixtures.llm_server", "--port", "0", "--latency", "0.0"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            base_url = proc.stdout.readline().strip()
            assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
            client = openai.OpenAI(base_url=base_url, api_key="test", max_retries=0, timeout=5.0)
            assert client.models.list().data
        finally:
            proc.terminate()
            proc.wait(timeout=5)
