"""Retrieval with the real local model and embedded Qdrant, on real PDFs."""

import pytest

from app.container import Container


def top_pages(container: Container, user: str, question: str, k: int = 3) -> list[tuple[str, int]]:
    retrieval = container.retriever.retrieve(user, question, limit=60)
    return [(p.file, p.page) for p in retrieval.pages()[:k]]


@pytest.mark.parametrize(
    ("question", "file", "pages"),
    [
        ("How do I reduce the blank space between entries in my reference list?", "natbib.pdf", {16}),
        ("I want to cite a reference as 'Paper I' instead of by its authors. How?", "natbib.pdf", {10}),
        ("著者が多すぎるとき、途中から「et al.」と表示させるにはどう書けばいいですか？", "jbtxdoc.pdf", {10}),
        ("新しい版の abbrv スタイルでは、3 月と 9 月の略記はどう変わりましたか？", "jbtxdoc.pdf", {5}),
        ("pdfLaTeX で、PDF の文書情報のタイトルに日本語を入れることはできますか？", "bxjscls-manual.pdf", {7}),
    ],
)
def test_question_finds_its_page_in_top_3(library: Container, question: str, file: str, pages: set[int]) -> None:
    """English and Japanese (dvipdfmx and LuaTeX) questions about one specific page."""
    found = top_pages(library, "alice", question)
    assert {(file, p) for p in pages} & set(found), found


def test_dense_only_mode_also_works(library: Container) -> None:
    retrieval = library.retriever.retrieve("alice", "superscript citation numbers natbib", mode="dense")
    assert retrieval.passages and retrieval.passages[0].score <= 1.0


def test_user_b_never_sees_user_a_documents(library: Container) -> None:
    alice_docs = {d.id for d in library.registry.list("alice")}
    bob_docs = {d.id for d in library.registry.list("bob")}
    assert alice_docs.isdisjoint(bob_docs)
    for question in ("hyperref colorlinks", "文献データベース", "BXJS クラス"):
        retrieval = library.retriever.retrieve("bob", question, limit=50)
        assert {p.doc_id for p in retrieval.passages} <= bob_docs
        assert all(p.file == "natbib.pdf" for p in retrieval.passages)
    # Even when bob names alice's documents explicitly, he gets nothing of hers.
    retrieval = library.retriever.retrieve("bob", "hyperref colorlinks", doc_ids=sorted(alice_docs), limit=50)
    assert retrieval.passages == []


def test_restricting_to_selected_documents(library: Container) -> None:
    natbib = next(d for d in library.registry.list("alice") if d.name == "natbib.pdf")
    retrieval = library.retriever.retrieve("alice", "link colours", doc_ids=[natbib.id], limit=30)
    assert retrieval.passages and {p.file for p in retrieval.passages} == {"natbib.pdf"}
