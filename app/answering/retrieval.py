"""Retrieval: dense or hybrid (dense + BM25-style sparse, reciprocal rank fusion), scoped to one
user's ready documents, with an abstention decision when nothing relevant comes back."""

from __future__ import annotations

from collections.abc import Sequence

from llama_index.core.vector_stores.types import VectorStoreQueryMode
from loguru import logger
from pydantic import BaseModel

from app.answering.sparse import term_coverage
from app.config import RetrievalSettings
from app.documents.registry import DocumentRegistry
from app.models.embeddings import EmbeddingModel
from app.storage.vector_store import ScoredNode, VectorStore


class Passage(BaseModel):
    doc_id: str
    file: str
    page: int
    page_label: str
    text: str
    score: float
    start: int
    end: int


class Retrieval(BaseModel):
    passages: list[Passage]
    abstained: bool
    best_dense: float
    coverage: float

    def pages(self) -> list[Passage]:
        """Passages collapsed to distinct (file, page), best first: what a citation points at."""
        seen: set[tuple[str, int]] = set()
        out = []
        for p in self.passages:
            if (p.doc_id, p.page) not in seen:
                seen.add((p.doc_id, p.page))
                out.append(p)
        return out


class Reranker:
    """Interface of the optional rerank stage: reorder passages for a question."""

    def rerank(self, question: str, passages: list[Passage]) -> list[Passage]:  # pragma: no cover - interface
        raise NotImplementedError


def rrf(rankings: Sequence[Sequence[ScoredNode]], k: int) -> list[tuple[ScoredNode, float]]:
    """Reciprocal rank fusion: score = sum over rankings of 1 / (k + rank)."""
    fused: dict[str, float] = {}
    first: dict[str, ScoredNode] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            key = item.node.node_id
            fused[key] = fused.get(key, 0.0) + 1.0 / (k + rank)
            first.setdefault(key, item)
    order = sorted(fused, key=lambda key: fused[key], reverse=True)
    return [(first[key], fused[key]) for key in order]


class Retriever:
    def __init__(
        self,
        store: VectorStore,
        embedder: EmbeddingModel,
        registry: DocumentRegistry,
        settings: RetrievalSettings,
        reranker: Reranker | None = None,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._registry = registry
        self._settings = settings
        self._reranker = reranker

    def retrieve(
        self,
        owner: str,
        question: str,
        doc_ids: Sequence[str] | None = None,
        limit: int | None = None,
        mode: str | None = None,
    ) -> Retrieval:
        """Best passages for `question` among `owner`'s ready documents (optionally only `doc_ids`).

        Document ids are intersected with the owner's own, so ids of someone else's documents
        select nothing."""
        settings = self._settings
        limit = limit or settings.top_k
        allowed = self._registry.ready_ids(owner, doc_ids)
        if not allowed or not question.strip():
            return Retrieval(passages=[], abstained=True, best_dense=0.0, coverage=0.0)
        embedding = self._embedder.embed_query(question)
        dense = self._store.search(owner, allowed, question, embedding, VectorStoreQueryMode.DEFAULT,
                                   settings.candidates)
        best_dense = max((d.score for d in dense), default=0.0)
        if (mode or settings.mode) == "hybrid":
            lexical = self._store.search(owner, allowed, question, None, VectorStoreQueryMode.SPARSE,
                                         settings.candidates)
            ranked = rrf([dense, lexical], settings.rrf_k)
        else:
            ranked = [(d, d.score) for d in dense]
        passages = [_passage(item, score) for item, score in ranked]
        if self._reranker is not None:
            passages = self._reranker.rerank(question, passages[: max(limit * 3, 20)])
        coverage = max((term_coverage(question, p.text) for p in passages[:3]), default=0.0)
        abstained = best_dense < settings.abstain_min_dense and coverage < settings.abstain_min_sparse
        logger.bind(user=owner).debug(
            "retrieval mode={} candidates={} best_dense={:.3f} coverage={:.2f} abstained={}",
            mode or settings.mode, len(passages), best_dense, coverage, abstained,
        )
        return Retrieval(passages=passages[:limit], abstained=abstained, best_dense=best_dense, coverage=coverage)


def _passage(item: ScoredNode, score: float) -> Passage:
    meta = item.node.metadata
    return Passage(
        doc_id=str(item.node.ref_doc_id),
        file=str(meta["file_name"]),
        page=int(meta["page"]),
        page_label=str(meta.get("page_label", meta["page"])),
        text=item.node.get_content(),
        score=float(score),
        start=int(meta.get("start", 0)),
        end=int(meta.get("end", 0)),
    )
