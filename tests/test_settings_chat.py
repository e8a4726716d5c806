"""chat.condense through the question service (ChatService) and the OpenAI-compatible test server
over real HTTP: on (the default), a follow-up is rewritten by the LLM into a standalone question that
retrieval then uses; off, the LLM gets no rewriting request and the follow-up itself is what is
retrieved for and answered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.container import Container
from app.models.embeddings import EmbeddingModel
from app.storage.db import UsageRecord
from tests.conftest import DATA, container_for, make_settings
from tests.fixtures.llm_server import FakeOpenAIServer

FIRST = "What does natbib do?"
FOLLOW_UP = "and superscripts?"
STANDALONE = "Which natbib option gives superscript numbers for citations?"


def _reply(messages: list[dict[str, str]]) -> str:
    if "Standalone question" in messages[-1]["content"]:  # the condensing prompt (answering/service.py)
        return STANDALONE
    return "Use the super option [1]."


@pytest.fixture(params=[True, False], ids=["condense", "no-condense"])
def workspace(
    request: pytest.FixtureRequest, tmp_path: Path, local_embedder: EmbeddingModel, llm: FakeOpenAIServer
) -> Iterator[tuple[Container, bool]]:
    settings = make_settings(
        tmp_path / "data",
        llm={"api_base": llm.base_url, "api_key": "sk-test-server", "model": "test-chat", "max_retries": 0},
        chat={"condense": request.param},
    )
    c = container_for(settings, local_embedder)
    assert c.ingestion.ingest_file("alice", DATA / "natbib.pdf").outcome == "ingested"
    yield c, request.param
    c.close()


def test_a_follow_up_is_rewritten_only_when_condense_is_on(
    workspace: tuple[Container, bool], llm: FakeOpenAIServer
) -> None:
    c, condense = workspace
    llm.reply_fn = _reply
    _, conversation = c.chat.ask("alice", FIRST)
    llm.reset()
    answer, same = c.chat.ask("alice", FOLLOW_UP, conversation_id=conversation)
    assert same == conversation

    chats = [body["messages"] for endpoint, body in llm.requests if endpoint == "chat"]
    rewrites = [m for m in chats if "Standalone question" in m[-1]["content"]]
    final = chats[-1]
    assert any(m["content"] == FIRST for m in final)  # the history is in the answer's prompt either way
    with c.db.session() as s:
        kinds = [r.kind for r in s.query(UsageRecord).filter(UsageRecord.owner == "alice").order_by(UsageRecord.id)]
    if condense:
        assert len(chats) == 2 and len(rewrites) == 1
        assert FOLLOW_UP in rewrites[0][-1]["content"]
        assert answer.question == STANDALONE  # what retrieval was asked
        assert kinds == ["chat", "condense", "chat"]
    else:
        assert len(chats) == 1 and rewrites == []  # one request: the answer, no rewriting
        assert answer.question == FOLLOW_UP
        assert STANDALONE not in str(final)
        assert FOLLOW_UP in final[-1]["content"]
        assert kinds == ["chat", "chat"]
