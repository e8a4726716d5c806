"""The embedded store on Qdrant Edge (the default engine): tenant isolation and the document filter
done by the engine, the same top hits as qdrant-client's local mode on a real PDF, persistence,
one process per folder with a message that says why, concurrent searches while writing and
indexing, and the move of a local-mode folder into Edge at start."""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import VectorStoreQueryMode

from app.answering.retrieval import Retriever
from app.config import Settings
from app.errors import StoreLockedError
from app.storage import edge_store
from app.storage.edge_store import EdgeClient, EdgeStore
from app.storage.vector_factory import open_client, open_store
from app.storage.vector_store import VectorStore
from tests.conftest import DATA, ROOT, container_for, make_settings
from tests.fixtures.llm_server import FakeOpenAIServer, embed_text

DENSE, SPARSE = VectorStoreQueryMode.DEFAULT, VectorStoreQueryMode.SPARSE
DIM = 64
QUESTIONS = [
    "How do I get superscript citation numbers?",
    "Which option sorts and compresses numerical citations?",
    "How do I cite a page number with citep?",
    "What does the round option do?",
    "How are author-year citations written in the text?",
]


def node(tenant: str, doc_id: str, text: str, page: int = 1) -> TextNode:
    n = TextNode(
        id_=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant}/{doc_id}/{page}/{text}")),
        text=text,
        metadata={"tenant": tenant, "file_name": f"{doc_id}.pdf", "page": page},
        embedding=embed_text(text, DIM),
    )
    n.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=doc_id)
    return n


def open_edge(path: Path) -> VectorStore:
    return open_store(open_client(None, None, path, 5, "edge"), "documents", DIM, False)


def search(store: VectorStore, tenant: str, docs: list[str], text: str, mode: VectorStoreQueryMode) -> list[str]:
    hits = store.search(tenant, docs, text, embed_text(text, DIM), mode, 10)
    return [f"{h.node.metadata['tenant']}:{h.node.ref_doc_id}:{h.node.text}" for h in hits]


def test_another_tenants_uploads_do_not_move_a_users_sparse_scores(tmp_path: Path) -> None:
    """IDF is computed over the asking tenant's own chunks (bench/cross_tenant_idf.py measured a
    15x move of a user's scores with collection-wide IDF)."""
    store = open_edge(tmp_path / "qdrant")
    try:
        store.add([node("bob", "d1", "zebra crossing painted white zebra stripes"), node("bob", "d2", "valve tag")])

        def bob() -> list[tuple[str, float]]:
            hits = store.search("bob", ["d1", "d2"], "zebra valve", None, SPARSE, 10)
            return [(str(h.node.ref_doc_id), round(h.score, 6)) for h in hits]

        before = bob()
        store.add([node("alice", f"z{i}", f"zebra herd {i} zebra zebra animal") for i in range(40)])
        assert bob() == before and len(before) == 2
        # The statistics are alice's own for her: "zebra" is everywhere in her chunks, so it weighs little.
        herd = store.search("alice", ["z1"], "zebra herd", None, SPARSE, 1)[0].score
        assert herd < before[0][1]
    finally:
        store.close()


def test_a_tenant_never_sees_another_tenants_points_even_with_the_same_document_ids(tmp_path: Path) -> None:
    store = open_edge(tmp_path / "qdrant")
    try:
        store.add([node("alice", "doc1", "alpaca wool prices"), node("alice", "doc2", "llama trekking routes")])
        store.add([node("bob", "doc1", "alpaca wool prices"), node("bob", "doc1", "alpaca wool secret")])
        for mode in (DENSE, SPARSE):
            assert search(store, "alice", ["doc1"], "alpaca wool", mode) == ["alice:doc1:alpaca wool prices"]
            assert sorted(search(store, "bob", ["doc1", "doc2"], "alpaca wool", mode)) == [
                "bob:doc1:alpaca wool prices",
                "bob:doc1:alpaca wool secret",
            ]
            assert search(store, "carol", ["doc1"], "alpaca wool", mode) == []
        # the document filter: alice's doc2 only, never doc1
        assert search(store, "alice", ["doc2"], "llama alpaca wool trekking", SPARSE) == [
            "alice:doc2:llama trekking routes"
        ]
        assert store.search("alice", [], "alpaca", None, SPARSE, 10) == []
        assert (store.count("alice"), store.count("bob"), store.count("alice", ["doc2"])) == (2, 2, 1)
        store.delete_document("bob", "doc1")
        assert (store.count("alice"), store.count("bob")) == (2, 0)
    finally:
        store.close()


def test_points_nodes_and_exports_survive_a_restart(tmp_path: Path) -> None:
    store = open_edge(tmp_path / "qdrant")
    store.add([node("alice", "doc1", f"chapter {i} about bibliographies", page=i) for i in range(1, 301)])
    query = embed_text("chapter 7 about bibliographies", DIM)
    before = store.search("alice", ["doc1"], "chapter 7", query, DENSE, 3)
    exported = sorted(store.export_points(), key=lambda p: p["id"])
    store.close()

    again = open_edge(tmp_path / "qdrant")
    try:
        assert again.count("alice") == 300 and again.dim == DIM
        after = again.search("alice", ["doc1"], "chapter 7", query, DENSE, 3)
        assert [(h.node.node_id, h.node.text, h.node.metadata) for h in after] == [
            (h.node.node_id, h.node.text, h.node.metadata) for h in before
        ]
        assert after[0].score == pytest.approx(1.0, abs=1e-3)  # the point whose vector is the query's
        assert sorted(again.export_points(), key=lambda p: p["id"]) == exported
    finally:
        again.close()


def test_a_second_process_is_refused_and_told_why(tmp_path: Path) -> None:
    store = open_edge(tmp_path / "qdrant")
    try:
        with pytest.raises(StoreLockedError):  # in this process too: one opener per folder
            open_client(None, None, tmp_path / "qdrant", 5, "edge")
        other = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from pathlib import Path; from app.storage.vector_factory import open_client; "
                "open_client(None, None, Path(sys.argv[1]), 5, 'edge')",
                str(tmp_path / "qdrant"),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert other.returncode != 0
        assert "StoreLockedError" in other.stderr and "already open in another process" in other.stderr
        assert "one process at a time" in other.stderr and "qdrant.url" in other.stderr
    finally:
        store.close()
    open_edge(tmp_path / "qdrant").close()  # released on close


def test_searches_run_from_many_threads_while_writing_and_indexing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(edge_store, "INDEXING_THRESHOLD_KB", 64)  # so these few points get an HNSW index
    monkeypatch.setattr(edge_store, "OPTIMIZE_AFTER_IDLE_S", 3600)  # indexed below, not in the background
    client = open_client(None, None, tmp_path / "qdrant", 5, "edge")
    assert isinstance(client, EdgeClient)
    store = EdgeStore(client, "documents", DIM)
    store.add([node("alice", "doc1", f"seed text number {i}", page=i) for i in range(2000)])
    errors: list[Exception] = []
    done = threading.Event()

    def ask() -> None:
        while not done.is_set():
            try:
                assert search(store, "alice", ["doc1"], "seed text number 5", SPARSE)
                assert store.search("alice", ["doc1"], "x", embed_text("seed", DIM), DENSE, 5)
            except Exception as e:  # what the test is about
                errors.append(e)

    askers = [threading.Thread(target=ask) for _ in range(4)]
    for t in askers:
        t.start()
    try:
        for batch in range(5):
            store.add([node("bob", "doc9", f"more text {batch} {i}", page=i) for i in range(400)])
        assert client.optimize_now()  # segments were rebuilt with HNSW while the searches ran
    finally:
        done.set()
        for t in askers:
            t.join()
    assert errors == []
    assert store.count("bob") == 2000
    store.close()


def settings_for(tmp_path: Path, llm: FakeOpenAIServer, engine: str) -> Settings:
    settings = make_settings(
        tmp_path / "data",
        embeddings={"provider": "openai", "model": "test-embedding-a", "api_base": llm.base_url, "batch_size": 64},
        qdrant={"embedded_engine": engine},
    )
    settings.embeddings.api_key = None
    return settings


def top_hits(retriever: Retriever, store: VectorStore, owner: str, docs: list[str], embed) -> list[tuple]:  # type: ignore[no-untyped-def, type-arg]
    out = []
    for q in QUESTIONS:
        dense = store.search(owner, docs, q, embed(q), DENSE, 10)
        lexical = store.search(owner, docs, q, None, SPARSE, 10)
        passages = retriever.retrieve(owner, q, mode="hybrid").passages
        out.append((dense[0].node.node_id, lexical[0].node.node_id, passages[0].file, passages[0].page))
        assert abs(dense[0].score - 1) <= 1 and lexical[0].score > 0
    return out


def test_a_local_mode_folder_moves_to_edge_at_start_with_the_same_answers(
    tmp_path: Path, llm: FakeOpenAIServer
) -> None:
    old = container_for(settings_for(tmp_path, llm, "local"))  # the previous embedded engine
    assert old.ingestion.ingest_file("alice", DATA / "natbib.pdf").outcome == "ingested"
    assert old.ingestion.ingest_file("bob", DATA / "natbib.pdf").outcome == "ingested"
    docs = [d.id for d in old.registry.list("alice")]
    chunks = old.vector_store.count("alice")

    def embed(q: str) -> list[float]:
        return old.embedder.embed_query(q, "alice")

    local_hits = top_hits(old.retriever, old.vector_store, "alice", docs, embed)
    old.close()
    folder = tmp_path / "data" / "qdrant"
    assert (folder / "meta.json").exists() and not (folder / "edge").exists()

    new = container_for(settings_for(tmp_path, llm, "edge"))
    try:
        assert isinstance(new.vector_store, EdgeStore)
        assert (folder / "edge").is_dir() and not (folder / "meta.json").exists()
        [kept] = folder.glob("local-mode-*")
        assert (kept / "meta.json").exists()  # the old files, renamed, for going back
        assert new.vector_store.count("alice") == chunks and new.vector_store.count("bob") == chunks
        assert top_hits(new.retriever, new.vector_store, "alice", docs, embed) == local_hits
    finally:
        new.close()

    again = container_for(settings_for(tmp_path, llm, "edge"))  # migrated once, then just opened
    try:
        assert again.vector_store.count("alice") == chunks and len(list(folder.glob("local-mode-*"))) == 1
    finally:
        again.close()
