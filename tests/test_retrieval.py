"""Retrieval with the real local model and embedded Qdrant, on real PDFs."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from llama_index.core.vector_stores.types import VectorStoreQueryMode

from app.answering.rerank import build_reranker
from app.answering.retrieval import Retrieval, Retriever
from app.config import RerankSettings
from app.container import Container
from app.errors import ConfigError, ServiceUnavailable
from app.evaluation.calibration import calibrate
from app.evaluation.runner import Question
from app.models.sparse import is_cjk, tokenize


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
        (
            "pdfLaTeX で、PDF の文書情報のタイトルに日本語を入れることはできますか？",
            "bxjscls-manual.pdf",
            {7},
        ),
    ],
)
def test_question_finds_its_page_in_top_3(library: Container, question: str, file: str, pages: set[int]) -> None:
    """English and Japanese (dvipdfmx and LuaTeX) questions about one specific page."""
    found = top_pages(library, "alice", question)
    assert {(file, p) for p in pages} & set(found), found


def test_dense_only_mode_also_works(library: Container) -> None:
    """mode="dense" is the store's own dense ranking, cosine similarities as scores; the hybrid
    mode's fused ranking of the same question differs from it."""
    question = "superscript citation numbers natbib"
    retrieval = library.retriever.retrieve("alice", question, mode="dense", limit=10)
    embedding = library.embedder.embed_query(question, "alice")
    candidates = library.settings.retrieval.candidates
    dense = library.vector_store.search("alice", None, question, embedding, VectorStoreQueryMode.DEFAULT, candidates)
    expected = [(str(d.node.ref_doc_id), d.node.get_content(), pytest.approx(d.score)) for d in dense[:10]]
    assert len(expected) == 10
    assert [(p.doc_id, p.text, p.score) for p in retrieval.passages] == expected
    assert retrieval.best_dense == pytest.approx(dense[0].score)
    hybrid = library.retriever.retrieve("alice", question, mode="hybrid", limit=10)
    assert [(p.text, p.score) for p in hybrid.passages] != [(p.text, p.score) for p in retrieval.passages]


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


# --- sparse encoding, fusion, reranking, calibration -------------------------------------------


def test_japanese_terms_are_kanji_and_katakana_ngrams_without_particles() -> None:
    terms = tokenize("修士論文のフィールドは何ですか")
    assert {"修士", "論文", "士論", "修", "文"} <= set(terms)  # kanji unigrams and bigrams
    assert {"フィ", "ール", "ルド"} <= set(terms)  # katakana bigrams
    assert not {"の", "は", "です", "すか"} & set(terms)  # hiragana particles and endings are dropped
    assert tokenize("The entries were citing") == ["entri", "cite"]  # stemmed, stop-worded English


def test_camel_case_identifiers_also_give_their_parts() -> None:
    terms = tokenize("pdfpagemode=FullScreen, \\TextField and HTTPServer")
    assert {"fullscreen", "full", "screen", "textfield", "text", "field", "http", "server"} <= set(terms)
    assert "pdfpagemod" in terms and "pdf" not in terms  # all lower case: no way to tell the parts
    assert tokenize("LaTeX and MiKTeX") == ["latex", "miktex"]  # no two-letter pieces
    assert "・" not in tokenize("片面・両面")  # the katakana middle dot is punctuation


def test_passages_carry_their_outline_section_within_the_model_limit(library: Container) -> None:
    retrieval = library.retriever.retrieve("alice", "Which option makes the PDF open in full screen mode?", limit=20)
    by_file = {p.file: p for p in retrieval.passages}
    assert by_file["hyperref-doc.pdf"].section  # hyperref-doc.pdf has an outline
    assert all(not p.section for p in retrieval.passages if p.file == "natbib.pdf")  # natbib.pdf has none
    embedder = library.embedder
    for p in retrieval.passages:
        assert embedder.count_tokens([f"{p.section}\n\n{p.text}"])[0] <= embedder.max_tokens


def test_language_of_a_question_for_fusion() -> None:
    assert is_cjk("BXJS クラスで用紙サイズを何も指定しなかった場合、何判になりますか？")
    assert not is_cjk("How do I use \\citet with natbib?")


def test_japanese_question_weights_the_sparse_ranking(library: Container) -> None:
    """A Japanese question's best passages are about paper sizes (the paper-size options of
    bxjscls-manual.pdf p. 11 among them), which only the sparse ranking finds: with the Japanese
    sparse weight forced to 0 (dense weight 1) the English-only embedding puts a passage first that
    does not mention them. (Which of the two paper-size passages, p. 8 or p. 11, comes first is
    a near tie that the model's precision and the chunking decide: 0.834 against 0.819 at int8.)"""
    question = "用紙サイズを指定しないと何判になりますか"
    retrieval = library.retriever.retrieve("alice", question, limit=5)
    top = retrieval.passages[:2]
    assert all("用紙サイズ" in p.text for p in top), [(p.page, p.text[:40]) for p in top]
    assert ("bxjscls-manual.pdf", 11) in [(p.file, p.page) for p in top]
    dense_only = Retriever(
        library.vector_store,
        library.embedder,
        library.registry,
        library.settings.retrieval.model_copy(update={"dense_weight_cjk": 1.0}),
    )
    unweighted = dense_only.retrieve("alice", question, limit=5).passages[0]
    assert "用紙サイズ" not in unweighted.text


def test_rrf_fusion_is_still_available(library: Container) -> None:
    retriever = Retriever(
        library.vector_store,
        library.embedder,
        library.registry,
        library.settings.retrieval.model_copy(update={"fusion": "rrf"}),
    )
    found = [(p.file, p.page) for p in retriever.retrieve("alice", QUESTION_EN, limit=40).pages()[:3]]
    assert ("natbib.pdf", 16) in found


def test_unanswerable_question_is_weak_and_answerable_one_is_not(library: Container) -> None:
    """A weak match is read by the model (tests/test_retrieval_gate.py); only a question that
    matches nothing at all is refused before it."""
    unanswerable = library.retriever.retrieve("alice", "What port does a PostgreSQL server listen on by default?")
    assert unanswerable.weak and not unanswerable.abstained and unanswerable.passages
    answerable = library.retriever.retrieve("alice", QUESTION_EN)
    assert not answerable.weak and not answerable.abstained
    assert library.retriever.retrieve("alice", "zxqv wvkp").abstained


QUESTION_EN = "How do I reduce the blank space between entries in my reference list?"


class _OverlapRerankHandler(BaseHTTPRequestHandler):
    """A Cohere-style /rerank endpoint scoring passages by shared words (deterministic)."""

    requests: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        if self.path != "/v1/rerank":
            self.send_response(404)
            self.end_headers()
            return
        query = set(body["query"].lower().split())
        results = [
            {"index": i, "relevance_score": len(query & set(doc.lower().split())) / len(query)}
            for i, doc in enumerate(body["documents"])
        ]
        payload = json.dumps({"results": sorted(results, key=lambda r: -r["relevance_score"])}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def rerank_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OverlapRerankHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _OverlapRerankHandler.requests.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def _api_retriever(library: Container, api_base: str, min_score: float | None) -> Retriever:
    rerank = RerankSettings(
        provider="api",
        api_base=api_base,
        model="test-reranker",
        api_key="sk-rerank",
        candidates=10,
        min_score=min_score,
    )
    settings = library.settings.retrieval.model_copy(update={"rerank": rerank})
    reranker = build_reranker(rerank)
    return Retriever(library.vector_store, library.embedder, library.registry, settings, reranker)


def test_api_reranker_reorders_and_scores(library: Container, rerank_server: str) -> None:
    question = "natbib superscript citations"
    retrieval = _api_retriever(library, rerank_server, None).retrieve("alice", question, limit=30)
    sent = _OverlapRerankHandler.requests[-1]
    assert sent["path"] == "/v1/rerank" and sent["auth"] == "Bearer sk-rerank" and sent["model"] == "test-reranker"
    assert sent["query"] == question and len(sent["documents"]) == 10
    head = [p.score for p in retrieval.passages[:10]]
    assert head == sorted(head, reverse=True) and retrieval.rerank_score == head[0]
    assert len(retrieval.passages) > 10  # the fused passages beyond the reranked ones follow


def test_api_reranker_threshold_decides_a_weak_match(library: Container, rerank_server: str) -> None:
    strict = _api_retriever(library, rerank_server, min_score=1.01).retrieve("alice", QUESTION_EN)
    assert strict.weak and not strict.abstained and strict.rerank_score is not None
    lenient = _api_retriever(library, rerank_server, min_score=0.0).retrieve("alice", QUESTION_EN)
    assert not lenient.weak


def test_api_reranker_failure_is_a_domain_error(library: Container, rerank_server: str) -> None:
    with pytest.raises(ServiceUnavailable, match="rerank API failed"):
        _api_retriever(library, rerank_server + "/missing", None).retrieve("alice", QUESTION_EN)


def test_rerank_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="api_base"):
        RerankSettings(provider="api")
    with pytest.raises(ValueError, match=r"rerank\.model"):
        RerankSettings(provider="cross-encoder")
    with pytest.raises(ConfigError, match="not a folder"):
        build_reranker(RerankSettings(provider="cross-encoder", model="/nonexistent/cross-encoder"))


def test_calibration_proposes_thresholds_that_refuse_no_answerable_question() -> None:
    questions = [
        Question(id="a1", question="q", pdf="x.pdf", pages=[1]),
        Question(id="a2", question="q", pdf="x.pdf", pages=[2]),
        Question(id="u1", question="q", answerable=False),  # marked: a bare line is not scored
        Question(id="u2", question="q", answerable=False),
    ]
    signals = [(0.70, 0.30), (0.40, 0.80), (0.30, 0.20), (0.60, 0.90)]
    retrievals = [Retrieval(passages=[], abstained=False, best_dense=d, coverage=c) for d, c in signals]
    found = calibrate(questions, retrievals)
    assert (found.abstained, found.unanswerable) == (1, 2)  # u2 looks answerable on both signals
    assert 0.30 < found.abstain_min_dense <= 0.70 and 0.20 < found.abstain_min_sparse <= 0.80


def test_the_stemmer_loaded_alone_stems_as_nltks_and_leaves_no_stand_in_package() -> None:
    """app/models/sparse.py loads nltk's Porter module without nltk/__init__.py (1.2 s of
    imports). Run in a fresh interpreter: the stems must be nltk's own, and a later `import nltk`
    must get the real package."""
    import subprocess
    import sys

    from tests.conftest import DATA, ROOT

    code = f"""
import sys, time
from app.documents.pdf_reader import read_pdf
pages = read_pdf({str(DATA / "bashref.pdf")!r})[:60]
words = sorted({{w.lower() for p in pages for w in p.text.split() if w.isalpha()}})
started = time.perf_counter()
from app.models import sparse
stems = [sparse._stem(w) for w in words]
alone = time.perf_counter() - started
assert not any(n == "nltk" or n.startswith("nltk.") for n in sys.modules), "stand-in left behind"
import nltk
from nltk.stem.porter import PorterStemmer
assert hasattr(nltk, "word_tokenize")  # the real package
real = PorterStemmer()
assert stems == [real.stem(w) for w in words]
print(len(words), round(alone, 3))
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    count, seconds = result.stdout.split()
    assert int(count) > 1000
    assert float(seconds) < 0.8  # the stemmer without nltk's package import (1.2 s with it, here)
