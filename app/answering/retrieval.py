"""Retrieval: dense or hybrid (dense + BM25-style sparse, fused), scoped to one user's ready
documents, optionally reranked, with two judgements on what came back:

- `abstained`: nothing matches at all (no passage shares a term with the question and none comes
  within `NOTHING_MATCHES_DENSE` of it): the service refuses without calling the model;
- `weak`: something matches, but weakly (the calibrated `abstain_min_dense` / `abstain_min_sparse`
  rule, or the reranker's `min_score`). The model still reads the passages and says when they do
  not answer; without a model they are shown labelled as weak. A weak score is no proof of a missing
  answer: "who originally wrote X?" against "X was a program written by Y" scores low (issue 27).

Fusion is language-aware: the default embedding model (all-MiniLM-L6-v2) is English-only, so for a
Japanese question its similarities are close to noise and the sparse ranking gets most of the weight.
The numbers behind every default are in README.md ("Retrieval quality") and bench/retrieval_sweep.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from llama_index.core.vector_stores.types import VectorStoreQueryMode
from loguru import logger
from pydantic import BaseModel, Field

from app import metrics, telemetry
from app.config import RetrievalSettings
from app.documents.registry import READY, DocumentRegistry
from app.errors import ServiceUnavailable
from app.models.embeddings import EmbeddingModel
from app.models.sparse import is_cjk, term_coverage
from app.storage.vector_store import MAX_CHUNKS_PER_PAGE, TENANT_KEY, ScoredNode, VectorStore, chunk_point_id


class Passage(BaseModel):
    doc_id: str
    file: str
    page: int
    page_label: str
    text: str
    score: float
    start: int
    end: int
    section: str = ""  # heading path from the PDF outline, when it has one
    ocr: bool = False  # the page's text was recognised from its image
    library: str = ""  # the team library the document is in ("": the asker's own)
    tenant: str = Field(default="", exclude=True)  # whose document: a username or a library's tenant
    point_id: str = Field(default="", exclude=True)  # the chunk's point in the vector store
    # The chunk's stored dense vector (the embedding of its section path and text, made at ingestion),
    # so the claim check need not embed the passage again; None when the store did not return it.
    vector: list[float] | None = Field(default=None, exclude=True, repr=False)
    # The chunks just before and after it in the document, for the claim check only (an answer may
    # name what the passage leaves to its heading or the text before it); "" when not read.
    surroundings: str = Field(default="", exclude=True, repr=False)


# Nothing matches: the best cosine similarity (all-MiniLM-L6-v2) is below this AND no passage the
# model would read holds a term of the question. Gibberish and off-language questions score 0.23-0.31
# against the test PDFs; the answerable questions of the tune split score at least 0.435 and hold at
# least a third of their terms (docs/retrieval-quality.md, "No hidden evidence").
NOTHING_MATCHES_DENSE = 0.35


class Retrieval(BaseModel):
    passages: list[Passage]
    abstained: bool  # nothing matches at all: refuse without asking the model
    weak: bool = False  # matches, but weakly: the passages may not answer the question
    best_dense: float  # highest cosine similarity among the dense candidates
    coverage: float  # best share of the question's terms found in one of the top passages
    rerank_score: float | None = None  # the reranker's score of the best passage, when one ran

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
    """Interface of the optional rerank stage: reorder passages for a question.

    Returns the passages best first, each `score` replaced by the reranker's relevance score."""

    def rerank(self, question: str, passages: list[Passage]) -> list[Passage]:  # pragma: no cover - interface
        raise NotImplementedError


def rrf(
    rankings: Sequence[Sequence[ScoredNode]], k: int, weights: Sequence[float] | None = None
) -> list[tuple[ScoredNode, float]]:
    """Reciprocal rank fusion: score = sum over rankings of weight / (k + rank)."""
    fused: dict[str, float] = {}
    first: dict[str, ScoredNode] = {}
    for ranking, weight in zip(rankings, weights or [1.0] * len(rankings), strict=True):
        for rank, item in enumerate(ranking, start=1):
            key = item.node.node_id
            fused[key] = fused.get(key, 0.0) + weight / (k + rank)
            first.setdefault(key, item)
    order = sorted(fused, key=lambda key: fused[key], reverse=True)
    return [(first[key], fused[key]) for key in order]


def score_fusion(
    dense: Sequence[ScoredNode], sparse: Sequence[ScoredNode], dense_weight: float
) -> list[tuple[ScoredNode, float]]:
    """Convex combination of normalised scores: w * dense + (1 - w) * sparse, each in 0..1.

    Dense similarities are min-max scaled over the dense candidates, BM25 scores divided by the
    best one; a candidate that only one retriever found gets 0 from the other. Unlike RRF this
    keeps how far apart the candidates are, which measured better on the evaluation set."""
    fused: dict[str, float] = {}
    first: dict[str, ScoredNode] = {}
    if dense:
        top, low = dense[0].score, dense[-1].score
        for item in dense:
            key = item.node.node_id
            fused[key] = dense_weight * (item.score - low) / (top - low or 1.0)
            first[key] = item
    best_sparse = sparse[0].score if sparse else 0.0
    for item in sparse:
        key = item.node.node_id
        fused[key] = fused.get(key, 0.0) + (1 - dense_weight) * item.score / (best_sparse or 1.0)
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
        tenants: Sequence[str] | None = None,
        labels: dict[str, str] | None = None,
    ) -> Retrieval:
        """Best passages for `question` among `owner`'s ready documents (optionally only `doc_ids`),
        or among those of `tenants` (the asker's own and the team libraries they may read, decided
        by app/auth/libraries.py on this request); `labels` names each library tenant.

        Document ids are intersected with the tenants' own, so ids of anyone else's documents
        select nothing."""
        with metrics.RETRIEVAL_SECONDS.time(), telemetry.span("retrieve", mode=mode or "default") as note:
            scope: str | list[str] = [*tenants] if tenants else owner
            if isinstance(scope, list) and len(scope) == 1:
                scope = scope[0]
            found = self._retrieve(owner, scope, question, doc_ids, limit, mode)
            if labels:
                for passage in found.passages:
                    passage.library = labels.get(passage.tenant, "")
            note(passages=len(found.passages), abstained=found.abstained, weak=found.weak)
            return found

    def _retrieve(
        self,
        asker: str,
        owner: str | list[str],
        question: str,
        doc_ids: Sequence[str] | None,
        limit: int | None,
        mode: str | None,
    ) -> Retrieval:
        settings = self._settings
        limit = limit or settings.top_k
        mode = mode or settings.mode
        if doc_ids is None:
            # All of the owner's documents: the store filters on the tenant and leaves out the few
            # that are not ready, instead of being sent every ready id (10,000 listed ids made each
            # search about ten times slower: tests/test_unbounded.py).
            scope, hidden = None, self._registry.unsearchable_ids(owner)
            searchable = self._registry.count(owner, (READY,)) > 0
        else:
            scope, hidden = self._registry.ready_ids(owner, doc_ids), []
            searchable = bool(scope)
        if not searchable or not question.strip():
            return Retrieval(passages=[], abstained=True, weak=True, best_dense=0.0, coverage=0.0)
        embedding = self._embedder.embed_query(question, asker)
        dense = self._store.search(
            owner, scope, question, embedding, VectorStoreQueryMode.DEFAULT, settings.candidates, exclude=hidden
        )
        if scope is None:
            dense = self._ready_only(owner, dense)
        best_dense = max((d.score for d in dense), default=0.0)
        if mode == "hybrid":
            lexical = self._store.search(
                owner, scope, question, None, VectorStoreQueryMode.SPARSE, settings.candidates, exclude=hidden
            )
            if scope is None:
                lexical = self._ready_only(owner, lexical)
            ranked = _with_best_lexical(self._fuse(question, dense, lexical), lexical, limit)
        else:
            ranked = [(d, d.score) for d in dense]
        passages = [_passage(item, score) for item, score in ranked]
        rerank_score = None
        if self._reranker is not None and passages:
            head = self._reranker.rerank(question, passages[: settings.rerank.candidates])
            rerank_score = head[0].score if head else None
            passages = head + passages[settings.rerank.candidates :]
        coverage = max((term_coverage(question, p.text) for p in passages[:3]), default=0.0)
        # A term in common with one of the passages the model would read.
        shared = any(term_coverage(question, p.text) > 0 for p in passages[:limit])
        abstained = not passages or (best_dense < NOTHING_MATCHES_DENSE and not shared)
        weak = abstained or self._weak(best_dense, coverage, rerank_score)
        logger.bind(user=asker).debug(
            "retrieval mode={} candidates={} best_dense={:.3f} coverage={:.2f} rerank={} weak={} abstained={}",
            mode,
            len(passages),
            best_dense,
            coverage,
            rerank_score,
            weak,
            abstained,
        )
        if not abstained:
            self._add_vectors(asker, passages[:limit])
            self._add_surroundings(asker, passages[:limit])
        return Retrieval(
            passages=passages[:limit],
            abstained=abstained,
            weak=weak,
            best_dense=best_dense,
            coverage=coverage,
            rerank_score=rerank_score,
        )

    def _add_vectors(self, asker: str, passages: list[Passage]) -> None:
        """The stored vectors of the passages the model will read, in one read by point id; the claim
        check embeds them itself when this fails."""
        try:
            found = self._store.vectors([p.point_id for p in passages if p.point_id])
        except ServiceUnavailable as e:
            logger.bind(user=asker).warning("passage vectors not read error={}", e)
            return
        for p in passages:
            p.vector = found.get(p.point_id)

    def _add_surroundings(self, asker: str, passages: list[Passage]) -> None:
        """The chunk before each passage (on its page, or the previous page's last) and the one after
        it (on its page, or the next page's first), read by point id in one read per tenant: a
        chunk's id names its document, page and place on the page. Left empty when this fails."""
        plans: list[tuple[Passage, list[str], list[str]]] = []
        wanted: dict[str, list[str]] = {}
        for p in passages:
            places = range(MAX_CHUNKS_PER_PAGE)
            i = next((j for j in places if chunk_point_id(p.doc_id, p.page, j) == p.point_id), None)
            if not p.tenant or i is None:
                continue
            if i:
                before = [chunk_point_id(p.doc_id, p.page, i - 1)]
            else:
                before = [chunk_point_id(p.doc_id, p.page - 1, j) for j in range(MAX_CHUNKS_PER_PAGE)]
            after = [chunk_point_id(p.doc_id, p.page, i + 1), chunk_point_id(p.doc_id, p.page + 1, 0)]
            plans.append((p, before, after))
            wanted.setdefault(p.tenant, []).extend(before + after)
        found: dict[str, str] = {}
        try:
            for tenant, points in wanted.items():
                found.update(self._store.texts(tenant, list(dict.fromkeys(points))))
        except ServiceUnavailable as e:
            logger.bind(user=asker).warning("text around the passages not read error={}", e)
            return
        for p, before, after in plans:
            previous = next((found[x] for x in reversed(before) if x in found), "")
            following = next((found[x] for x in after if x in found), "")
            p.surroundings = "\n".join(t for t in (previous, following) if t)

    def _ready_only(self, owner: str | list[str], found: list[ScoredNode]) -> list[ScoredNode]:
        """The registry, not the store, decides what is visible: a document that started indexing
        after the excluded ids were read, or a point left without its row, is dropped here."""
        ready = set(self._registry.ready_ids(owner, {str(item.node.ref_doc_id) for item in found}))
        return [item for item in found if str(item.node.ref_doc_id) in ready]

    def _fuse(
        self, question: str, dense: list[ScoredNode], lexical: list[ScoredNode]
    ) -> list[tuple[ScoredNode, float]]:
        settings = self._settings
        weight = settings.dense_weight_cjk if is_cjk(question) else settings.dense_weight
        if settings.fusion == "rrf":
            return rrf([dense, lexical], settings.rrf_k, [2 * weight, 2 * (1 - weight)])
        return score_fusion(dense, lexical, weight)

    def _weak(self, best_dense: float, coverage: float, rerank_score: float | None) -> bool:
        """A weak match: the embedding finds nothing close AND few of the question's terms occur in
        the best passages; or, with a reranker that has a threshold, its best score is too low."""
        settings = self._settings
        if rerank_score is not None and settings.rerank.min_score is not None:
            return rerank_score < settings.rerank.min_score
        return best_dense < settings.abstain_min_dense and coverage < settings.abstain_min_sparse


def _with_best_lexical(
    ranked: list[tuple[ScoredNode, float]], lexical: list[ScoredNode], limit: int
) -> list[tuple[ScoredNode, float]]:
    """The sparse search's best passage among the `limit` the model reads, in the last place if the
    fusion ranked it lower. When the dense similarities are all weak, min-max scaling still spreads
    them over the full dense weight, and a passage holding the question's rare terms (BM25 twice the
    next one's) fell to 10th behind passages that share no term with the question: evidence the
    model never saw ("Who originally wrote hyperbasics?", hyperref-doc.pdf p. 57)."""
    if not lexical or len(ranked) <= limit:
        return ranked
    best = lexical[0].node.node_id
    at = next((i for i, (item, _) in enumerate(ranked) if item.node.node_id == best), None)
    if at is None or at < limit:
        return ranked
    return [*ranked[: limit - 1], ranked[at], *ranked[limit - 1 : at], *ranked[at + 1 :]]


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
        section=str(meta.get("section", "")),
        ocr=bool(meta.get("ocr")),
        tenant=str(meta.get(TENANT_KEY, "")),
        point_id=str(item.node.node_id),
    )
