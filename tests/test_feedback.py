"""Feedback on answers: a user rates only their own answers, a new rating replaces the old one, the
question, sources and model are kept, only admins (and the operator's shell) read the list; a stopped
answer is kept in its conversation, marked as stopped, and a retried turn is replaced."""

from __future__ import annotations

import json

import pytest

from app.container import Container
from app.errors import AuthError, NotFound
from tests.conftest import DATA
from tests.fixtures.cli import run_app

QUESTION = "Which natbib option gives superscript numbers for citations?"


@pytest.fixture
def answered(container: Container) -> tuple[Container, str]:
    """alice asked one question (retrieval only: no LLM in this workspace) about natbib.pdf."""
    assert container.ingestion.ingest_file("alice", DATA / "natbib.pdf").outcome == "ingested"
    container.users.add("root", "roots-long-password", is_admin=True)
    container.users.add("alice", "alices-long-password")
    _, conversation = container.chat.ask("alice", QUESTION)
    return container, conversation


def test_a_rating_keeps_question_sources_and_model_and_replaces_the_last(answered: tuple[Container, str]) -> None:
    c, conversation = answered
    feedback = c.feedback
    up = feedback.rate("alice", conversation, 1, 1)
    assert up is not None and up.rating == 1 and up.question == QUESTION
    assert up.sources and up.sources[0]["file"] == "natbib.pdf" and "page" in up.sources[0]
    assert up.model == "retrieval-only"
    down = feedback.rate("alice", conversation, 1, -1)
    assert down is not None and down.id == up.id and down.rating == -1  # replaced, not added
    feedback.comment("alice", conversation, 1, "  The page cited is about author-year, not superscripts. ")
    [row] = feedback.list("root")
    assert row.rating == -1 and row.comment == "The page cited is about author-year, not superscripts."
    assert feedback.list("root", rating=1) == []
    assert feedback.ratings("alice", conversation) == {1: -1}
    assert feedback.ratings("mallory", conversation) == {}
    assert feedback.rate("alice", conversation, 1, None) is None  # taken back
    assert feedback.list("root") == []


def test_only_your_own_answers_and_only_admins_read(answered: tuple[Container, str]) -> None:
    c, conversation = answered
    with pytest.raises(NotFound):
        c.feedback.rate("mallory", conversation, 1, -1)  # not her conversation
    with pytest.raises(NotFound):
        c.feedback.rate("alice", conversation, 0, 1)  # a question, not an answer
    with pytest.raises(NotFound):
        c.feedback.rate("alice", conversation, 7, 1)
    c.feedback.rate("alice", conversation, 1, 1)
    with pytest.raises(AuthError):
        c.feedback.list("alice")
    assert len(c.feedback.list("root")) == 1


def test_deleting_a_conversation_deletes_its_feedback(answered: tuple[Container, str]) -> None:
    c, conversation = answered
    c.feedback.rate("alice", conversation, 1, -1)
    c.conversations.delete("alice", conversation)
    assert c.feedback.list("root") == []


def test_a_retried_turn_is_replaced_and_another_question_is_not(answered: tuple[Container, str]) -> None:
    c, conversation = answered
    assert not c.conversations.drop_last_turn("alice", conversation, "another question")
    assert c.conversations.drop_last_turn("alice", conversation, QUESTION)
    assert c.conversations.messages("alice", conversation) == []


def test_a_stopped_answer_is_kept_and_marked(answered: tuple[Container, str]) -> None:
    c, _ = answered
    stream = c.chat.stream("alice", QUESTION, use_cache=False, stopped_note="(stopped)")
    first = next(stream)
    assert first.delta and first.conversation_id  # the conversation is known from the first word
    stream.close()
    messages = c.conversations.messages("alice", first.conversation_id)
    assert [m.role for m in messages] == ["user", "assistant"]
    assert messages[1].content == f"{first.delta.rstrip()} (stopped)"


def test_the_cli_lists_feedback(answered: tuple[Container, str]) -> None:
    c, conversation = answered
    c.feedback.rate("alice", conversation, 1, -1, "wrong page")
    data_dir = c.settings.data_dir
    c.close()
    shown = run_app(data_dir, "feedback", "list", "--down", "--json")
    assert shown.returncode == 0, shown.stderr
    [row] = [json.loads(line) for line in shown.stdout.splitlines()]
    assert row["owner"] == "alice" and row["rating"] == -1 and row["comment"] == "wrong page"
    assert row["question"] == QUESTION and row["sources"][0]["file"] == "natbib.pdf"
    table = run_app(data_dir, "feedback", "list")
    assert table.returncode == 0 and "\talice\tdown\t" in table.stdout and "natbib.pdf p." in table.stdout
