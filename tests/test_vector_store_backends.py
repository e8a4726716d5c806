"""The vector store's behaviour on both backends (issue 28): the embedded engine (Qdrant Edge) and the
Qdrant-server code path (`QdrantStore` with `is_server=True`: payload indexes made, server-side
filters), the latter run on qdrant-client's local mode, which speaks the same client API (no Qdrant
server can run on this machine). Each test runs once per backend: the collection with dense and
IDF-weighted sparse vectors, the tenant filter, dense and sparse searches (the app fuses the two in
app/answering/retrieval.py), delete by document, the alias switch `reindex` makes, and a backup's
export and restore (also across backends). What local mode cannot show is listed in
docs/deployment.md ("What was and was not exercised here")."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import VectorStoreQueryMode

from app.storage.qdrant_store import QdrantConnection
from app.storage.vector_factory import open_client, open_store
from app.storage.vector_store import SPARSE as SPARSE_NAME
from app.storage.vector_store import StoreClient, VectorStore
from tests.fixtures.llm_server import embed_text

DENSE, SPARSE = VectorStoreQueryMode.DEFAULT, VectorStoreQueryMode.SPARSE
DIM = 64
BACKENDS = ["edge", "server-api"]


def node(tenant: str, doc_id: str, text: str, page: int = 1) -> TextNode:
    n = TextNode(
        id_=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant}/{doc_id}/{page}/{text}")),
        text=text,
        metadata={"tenant": tenant, "file_name": f"{doc_id}.pdf", "page": page},
        embedding=embed_text(text, DIM),
    )
    n.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=doc_id)
    return n


def connect(backend: str, path: Path) -> StoreClient:
    if backend == "edge":
        return open_client(None, None, path, 5, "edge")
    return QdrantConnection.local(path)  # the server's client API, in this process


def store_on(client: StoreClient, name: str = "documents") -> VectorStore:
    return open_store(client, name, DIM, is_server=isinstance(client, QdrantConnection))


@pytest.fixture(params=BACKENDS)
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreClient]:
    opened = connect(request.param, tmp_path / "qdrant")
    yield opened
    opened.close()


def hits(
    store: VectorStore, tenant: str | list[str], docs: list[str] | None, text: str, mode: VectorStoreQueryMode
) -> list[str]:
    found = store.search(tenant, docs, text, embed_text(text, DIM), mode, 10)
    return [f"{h.node.metadata['tenant']}:{h.node.ref_doc_id}:{h.node.text}" for h in found]


def ranked(store: VectorStore, tenant: str, text: str, mode: VectorStoreQueryMode) -> list[tuple[float, str]]:
    """Hits with their scores, ties in a fixed order (engines order equal scores as they like)."""
    found = store.search(tenant, None, text, embed_text(text, DIM), mode, 20)
    return sorted((round(-h.score, 4), f"{h.node.ref_doc_id}:{h.node.text}") for h in found)


def grouped(ranking: list[tuple[float, str]]) -> list[set[str]]:
    """The order of the hits, equal scores together, without the scores: sparse scores differ across
    backends (Edge weighs terms by the asking tenant's own chunks, a server by the whole collection)."""
    groups: list[set[str]] = []
    for i, (score, label) in enumerate(ranking):
        if i and score == ranking[i - 1][0]:
            groups[-1].add(label)
        else:
            groups.append({label})
    return groups


def rounded(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Exported points with their floats to 5 places (Edge keeps float32, local mode float64)."""
    out = []
    for p in sorted(points, key=lambda p: p["id"]):
        sparse = {"indices": p["sparse"]["indices"], "values": [round(v, 5) for v in p["sparse"]["values"]]}
        out.append({**p, "dense": [round(v, 5) for v in p["dense"]], "sparse": sparse})
    return out


def corpus() -> list[TextNode]:
    """Two tenants with the same document ids; apple everywhere in alice's doc2, zebra once."""
    nodes = [node("alice", "doc1", "zebra")]
    nodes += [node("alice", "doc2", f"apple apple apple orchard {i}", page=i) for i in range(1, 11)]
    nodes += [node("bob", "doc1", "zebra crossing for bob"), node("bob", "doc2", "apple pie for bob")]
    return nodes


def test_collection_holds_dense_and_idf_sparse_vectors(client: StoreClient) -> None:
    store = store_on(client)
    assert client.collection_names() == ["documents"] and store.dim == DIM
    store.add(corpus())
    assert store.count("alice") == 11 and store.count("bob") == 2
    if isinstance(client, QdrantConnection):  # the collection as the server is asked to make it
        info = client.qdrant.get_collection("documents")
        assert info.config.params.sparse_vectors is not None
        assert str(info.config.params.sparse_vectors[SPARSE_NAME].modifier).lower().endswith("idf")
    # IDF: "zebra" is in one of alice's chunks, "apple" (three times) in ten; the rare word wins.
    top = hits(store, "alice", None, "apple zebra", SPARSE)
    assert top[0] == "alice:doc1:zebra" and len(top) == 10
    # Dense: the point whose vector is the query's comes first, with a cosine of 1.
    found = store.search("alice", None, "zebra", embed_text("zebra", DIM), DENSE, 3)
    assert found[0].node.text == "zebra" and found[0].score == pytest.approx(1.0, abs=1e-3)


def test_tenant_filter_document_filter_and_exclusion(client: StoreClient) -> None:
    store = store_on(client)
    store.add(corpus())
    for mode in (DENSE, SPARSE):
        assert all(h.startswith("bob:") for h in hits(store, "bob", None, "zebra apple", mode))
        assert hits(store, "bob", ["doc1"], "zebra apple", mode) == ["bob:doc1:zebra crossing for bob"]
        assert all(h.startswith("alice:doc2:") for h in hits(store, "alice", ["doc2"], "zebra apple", mode))
        assert hits(store, "carol", None, "zebra apple", mode) == []
    found = store.search("alice", None, "zebra", embed_text("zebra", DIM), DENSE, 20, exclude=["doc1"])
    assert {h.node.ref_doc_id for h in found} == {"doc2"}
    assert store.count("alice", ["doc1"]) == 1 and store.count("bob", ["doc1", "doc2"]) == 2


def test_several_tenants_a_user_and_a_team_library_searched_together(client: StoreClient) -> None:
    """Issue 31: a member's question searches their own tenant and their libraries' (a payload
    filter on the tenant key matching any of them), and never a tenant left out of the list."""
    store = store_on(client)
    store.add([*corpus(), node("lib:team", "doc9", "zebra handbook of the team")])
    for mode in (DENSE, SPARSE):
        found = hits(store, ["alice", "lib:team"], None, "zebra", mode)
        assert {h.split(":doc")[0] for h in found} == {"alice", "lib:team"}, found
        assert "lib:team:doc9:zebra handbook of the team" in found
        assert hits(store, ["bob"], None, "zebra handbook", mode)[0].startswith("bob:")
        assert not any(h.startswith("lib:") for h in hits(store, ["bob"], None, "zebra handbook", mode))
        assert hits(store, ["lib:team", "bob"], ["doc9"], "zebra", mode) == ["lib:team:doc9:zebra handbook of the team"]


def test_delete_by_document_touches_that_tenants_document_only(client: StoreClient) -> None:
    store = store_on(client)
    store.add(corpus())
    store.delete_document("alice", "doc2")
    assert store.count("alice") == 1 and store.count("alice", ["doc2"]) == 0
    assert store.count("bob", ["doc2"]) == 1  # the same id in another tenant stays
    assert hits(store, "alice", None, "apple", SPARSE) == []
    assert hits(store, "bob", None, "apple", SPARSE) == ["bob:doc2:apple pie for bob"]


def test_alias_switch_as_reindex_makes_it(client: StoreClient) -> None:
    """reindex builds `<alias>-<new>` beside the one in use, points the alias at it in one operation,
    then drops the old collection; a store opened on the alias follows it."""
    old, new = store_on(client, "documents-old"), store_on(client, "documents-new")
    old.add([node("alice", "doc1", "old index text")])
    new.add([node("alice", "doc1", "new index text"), node("alice", "doc2", "new index second")])
    client.point_alias("documents", "documents-old")
    through_alias = store_on(client, "documents")
    assert client.collection_exists("documents") and "documents" not in client.collection_names()
    assert hits(through_alias, "alice", None, "index text", DENSE) == ["alice:doc1:old index text"]

    client.point_alias("documents", "documents-new")
    assert through_alias.count("alice") == 2
    assert hits(through_alias, "alice", ["doc1"], "index text", DENSE) == ["alice:doc1:new index text"]
    client.delete_collection("documents-old")
    assert client.collection_names() == ["documents-new"] and client.collection_exists("documents")


@pytest.mark.parametrize("target", BACKENDS)
def test_backup_export_restores_on_either_backend(client: StoreClient, target: str, tmp_path: Path) -> None:
    source = store_on(client)
    source.add(corpus())
    exported = rounded(list(source.export_points()))
    assert len(exported) == 13 and all(p["dense"] and p["sparse"]["indices"] and p["payload"] for p in exported)
    queries = [("alice", "apple zebra", SPARSE), ("bob", "zebra crossing", DENSE), ("alice", "orchard 3", DENSE)]
    before = [ranked(source, tenant, text, mode) for tenant, text, mode in queries]

    restored_client = connect(target, tmp_path / f"restored-{target}")
    try:
        restored = store_on(restored_client)
        restored.add([node("alice", "stale", "a point the restore must remove")])
        restored.clear()
        assert restored.count("alice") == 0
        restored.import_points(list(source.export_points()))
        assert rounded(list(restored.export_points())) == exported
        assert restored.count("alice") == 11 and restored.count("bob") == 2
        after = [ranked(restored, tenant, text, mode) for tenant, text, mode in queries]
        if type(restored_client) is type(client):
            assert after == before  # same engine: the same scores
        else:
            assert [grouped(r) for r in after] == [grouped(r) for r in before]
            assert after[1:] == before[1:]  # dense scores do not depend on the engine
    finally:
        restored_client.close()
