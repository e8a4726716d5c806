"""The claim check reads the cited passages' vectors from the index (issue 27, latency): retrieval
returns each passage's stored vector (one read by point id, on both vector-store backends), the
answer's citations carry it without ever serialising it, and the check then embeds only the
answer's sentences, deciding as it did when it embedded the passages itself."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from app.answering.claims_check import AnswerClaims
from app.container import Container
from app.models.embeddings import EmbeddingModel
from app.storage.vector_store import StoreClient
from tests.conftest import DATA, container_for, make_settings
from tests.fixtures.llm_server import FakeOpenAIServer
from tests.test_claims_wiring import QUESTION, llm_settings, right_and_wrong
from tests.test_vector_store_backends import DIM, client, node, store_on  # noqa: F401 - client: the fixture


@pytest.fixture
def workspace(tmp_path: Path, local_embedder: EmbeddingModel, llm: FakeOpenAIServer) -> Iterator[Container]:
    c = container_for(make_settings(tmp_path / "data", llm=llm_settings(llm)), local_embedder)
    assert c.ingestion.ingest_file("alice", DATA / "natbib.pdf").outcome == "ingested"
    yield c
    c.close()


class Recording:
    """The embedding model, remembering every text it was asked to embed."""

    def __init__(self, model: EmbeddingModel) -> None:
        self.model = model
        self.texts: list[str] = []

    def __call__(self, texts: Sequence[str]) -> list[list[float]]:
        self.texts.extend(texts)
        return self.model.embed_documents(texts)


def test_the_check_embeds_only_the_sentences_and_decides_as_before(
    workspace: Container, llm: FakeOpenAIServer, local_embedder: EmbeddingModel
) -> None:
    llm.reply_fn = right_and_wrong
    recording = Recording(local_embedder)
    workspace.__dict__["answer_claims"] = AnswerClaims(recording, stored_vectors=True)
    answer, conversation = workspace.chat.ask("alice", QUESTION)
    assert answer.citations and all(c.vector is not None and len(c.vector) == 384 for c in answer.citations)
    passages = {c.passage for c in answer.citations}
    assert recording.texts and not passages & set(recording.texts)  # the sentences only
    # the same decisions as a check that embeds the passages again
    again = Recording(local_embedder)
    before = AnswerClaims(again, stored_vectors=False).check("alice", answer) or []
    assert passages <= set(again.texts)
    assert [(c.text, c.support) for c in before] == [(c.text, c.support) for c in answer.claims or []]
    assert [c.support for c in before] == ["supported", "unsupported"]
    # the vector is for the check only: never in JSON, the stored message or the answer cache
    assert "vector" not in json.loads(answer.model_dump_json())["citations"][0]
    stored = workspace.conversations.messages("alice", conversation)[-1]
    assert all("vector" not in c for c in stored.citations or [])
    cached, _ = workspace.chat.ask("alice", QUESTION)
    assert cached.cached and all(c.vector is None for c in cached.citations)


def test_a_check_with_another_model_than_the_index_embeds_the_passages(
    workspace: Container, llm: FakeOpenAIServer, local_embedder: EmbeddingModel
) -> None:
    """The stored vectors are the index model's: a checker told otherwise embeds every passage."""
    llm.reply_fn = right_and_wrong
    recording = Recording(local_embedder)
    workspace.__dict__["answer_claims"] = AnswerClaims(recording)  # stored_vectors off
    answer, _ = workspace.chat.ask("alice", QUESTION)
    assert {c.passage for c in answer.citations} <= set(recording.texts)


def test_the_container_uses_stored_vectors_only_with_the_index_model(tmp_path: Path) -> None:
    same = Container(make_settings(tmp_path / "a"))
    other = Container(make_settings(tmp_path / "b", embeddings={"query_prefix": "query: "}))
    try:
        assert same.answer_claims is not None and same.answer_claims._stored_vectors
        assert other.answer_claims is not None and not other.answer_claims._stored_vectors
    finally:
        same.close()
        other.close()


def test_vectors_by_point_id_on_both_backends(client: StoreClient) -> None:  # noqa: F811 - edge and server API
    store = store_on(client)
    a, b = node("alice", "d1", "natbib options"), node("bob", "d2", "bash history")
    store.add([a, b])
    found = store.vectors([a.node_id, b.node_id, "00000000-0000-0000-0000-000000000000"])
    assert set(found) == {a.node_id, b.node_id}  # an unknown point is left out
    exported = {p["id"]: p["dense"] for p in store.export_points()}
    for point_id, vector in found.items():
        assert len(vector) == DIM and vector == pytest.approx(exported[point_id], abs=1e-6)
    assert store.vectors([]) == {}


def test_citations_carry_the_chunks_around_them_for_the_check_only(workspace: Container, llm: FakeOpenAIServer) -> None:
    """Retrieval reads, by point id, the chunk before each passage (on its page, or the previous
    page's last) and the one after it (or the next page's first): the claim check finds there a name
    the answer took from the text around the passage. Never serialised, like the vector."""
    from app.documents.indexing import DocumentRef
    from app.documents.pdf_reader import read_pdf

    llm.reply_fn = right_and_wrong
    answer, conversation = workspace.chat.ask("alice", QUESTION)
    assert answer.citations
    ref = DocumentRef(answer.citations[0].doc_id, "alice", "natbib.pdf")
    chunks = [
        (int(n.metadata["page"]), n.start_char_idx, n.text)
        for batch in workspace.ingestion.indexer.batches(ref, read_pdf(DATA / "natbib.pdf"))
        for n in batch.nodes
    ]
    for c in answer.citations:
        k = next(i for i, (page, start, _) in enumerate(chunks) if (page, start) == (c.page, c.start))
        expected = "\n".join(text for _, _, text in chunks[max(0, k - 1) : k] + chunks[k + 1 : k + 2])
        assert c.surroundings == expected, (c.page, c.start)
    # across page boundaries: page 5's first chunk has page 4's last before it, page 4's last page 5's first after it
    from app.answering.retrieval import Passage
    from app.storage.vector_store import chunk_point_id

    doc = answer.citations[0].doc_id
    last_of_4 = max(i for i, (page, _, _) in enumerate(chunks) if page == 4)
    assert chunks[last_of_4 + 1][0] == 5 and chunks[last_of_4 + 1][1] == 0
    on_4 = sum(page == 4 for page, _, _ in chunks)

    def passage(page: int, index: int) -> Passage:
        point = chunk_point_id(doc, page, index)
        return Passage(doc_id=doc, file="natbib.pdf", page=page, page_label=str(page), text="", score=0.0,
                       start=0, end=0, tenant="alice", point_id=point)  # fmt: skip

    first_of_5, end_of_4 = passage(5, 0), passage(4, on_4 - 1)
    workspace.retriever._add_surroundings("alice", [first_of_5, end_of_4])
    assert first_of_5.surroundings == f"{chunks[last_of_4][2]}\n{chunks[last_of_4 + 2][2]}"
    assert end_of_4.surroundings == f"{chunks[last_of_4 - 1][2]}\n{chunks[last_of_4 + 1][2]}"
    strangers = passage(5, 0)
    strangers.tenant = "mallory"
    workspace.retriever._add_surroundings("mallory", [strangers])
    assert strangers.surroundings == ""  # another tenant's chunks are never read
    assert "surroundings" not in json.loads(answer.model_dump_json())["citations"][0]
    stored = workspace.conversations.messages("alice", conversation)[-1]
    assert all("surroundings" not in c for c in stored.citations or [])


def test_texts_by_point_id_on_both_backends_only_of_the_tenant(client: StoreClient) -> None:  # noqa: F811
    store = store_on(client)
    a, b = node("alice", "d1", "natbib options"), node("bob", "d2", "bash history")
    store.add([a, b])
    unknown = "00000000-0000-0000-0000-000000000000"
    assert store.texts("alice", [a.node_id, b.node_id, unknown]) == {a.node_id: "natbib options"}
    assert store.texts("bob", [a.node_id, b.node_id]) == {b.node_id: "bash history"}
    assert store.texts("alice", []) == {}
