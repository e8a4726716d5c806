"""Optional rerank stage: a local cross-encoder, or a `/rerank` HTTP API.

Both read the question together with each passage, which a bi-encoder (the embedding model) never
does, so they can both reorder the fused candidates and say "nothing here answers this" with one
score (`retrieval.rerank.min_score`). Neither is on by default: no cross-encoder weights ship on
PyPI for offline use, and the API needs a server. See README.md, "Retrieval quality".
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from loguru import logger

from app.answering.retrieval import Passage, Reranker
from app.config import RerankSettings
from app.errors import ConfigError, ServiceUnavailable

MISSING_SCORE = -1e9


def _reordered(passages: list[Passage], scores: list[float]) -> list[Passage]:
    ranked = sorted(zip(scores, range(len(passages)), strict=True), reverse=True)
    return [passages[i].model_copy(update={"score": float(score)}) for score, i in ranked]


class CrossEncoderReranker(Reranker):
    """A sentence-transformers CrossEncoder from a local folder (never downloaded at run time)."""

    def __init__(self, model: str, max_length: int = 512) -> None:
        folder = Path(model)
        if not folder.is_dir():
            raise ConfigError(
                f"retrieval.rerank.model {model!r} is not a folder. Download a cross-encoder once (e.g. "
                "cross-encoder/ms-marco-MiniLM-L-6-v2, or a multilingual one such as BAAI/bge-reranker-v2-m3 "
                "for Japanese) into a folder and point retrieval.rerank.model at it."
            )
        try:
            from sentence_transformers import CrossEncoder
        except ImportError as e:  # the slim install (the Docker image) has no torch stack
            raise ConfigError(
                "retrieval.rerank.provider cross-encoder needs the torch extra (pip install 'pdfqa[torch]'), "
                "or use provider api"
            ) from e
        try:
            self._model = CrossEncoder(str(folder), device="cpu", max_length=max_length, local_files_only=True)
        except Exception as e:
            raise ConfigError(f"cannot load the cross-encoder in {folder}: {type(e).__name__}") from e
        self.name = folder.name

    def rerank(self, question: str, passages: list[Passage]) -> list[Passage]:
        if not passages:
            return []
        started = time.perf_counter()
        # A one-label cross-encoder ends in a sigmoid: scores are 0..1, so min_score is portable.
        scores = self._model.predict([(question, p.text) for p in passages], show_progress_bar=False)
        logger.debug("rerank cross-encoder passages={} seconds={:.2f}", len(passages), time.perf_counter() - started)
        return _reordered(passages, [float(s) for s in scores])


class ApiReranker(Reranker):
    """POST <api_base>/rerank in the shape Cohere, Jina, vLLM, Infinity and llama.cpp accept:
    {"model", "query", "documents"} -> {"results": [{"index", "relevance_score"}]}. A reply that is a
    bare list of {"index", "score"} is understood too."""

    def __init__(self, api_base: str, model: str | None, api_key: str | None, timeout_s: float) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(base_url=api_base.rstrip("/"), headers=headers, timeout=timeout_s)
        self._model = model

    def rerank(self, question: str, passages: list[Passage]) -> list[Passage]:
        if not passages:
            return []
        body: dict[str, Any] = {
            "query": question,
            "documents": [p.text for p in passages],
            "top_n": len(passages),
        }
        if self._model:
            body["model"] = self._model
        started = time.perf_counter()
        try:
            response = self._client.post("/rerank", json=body)
            response.raise_for_status()
            scores = _scores(response.json(), len(passages))
        except (ValueError, KeyError, TypeError) as e:
            raise ServiceUnavailable(f"the rerank API answered in an unknown format ({type(e).__name__})") from e
        except Exception as e:
            raise ServiceUnavailable(f"the rerank API failed ({type(e).__name__})") from e
        logger.debug("rerank api passages={} seconds={:.2f}", len(passages), time.perf_counter() - started)
        return _reordered(passages, scores)

    def close(self) -> None:
        self._client.close()


def _scores(data: Any, n: int) -> list[float]:
    """Scores by passage index; a passage the API left out ranks last."""
    results = data["results"] if isinstance(data, dict) else data
    scores = [MISSING_SCORE] * n
    for item in results:
        score = item["relevance_score"] if "relevance_score" in item else item["score"]
        scores[int(item["index"])] = float(score)
    return scores


def build_reranker(settings: RerankSettings) -> Reranker | None:
    if settings.provider == "off":
        return None
    if settings.provider == "cross-encoder":
        return CrossEncoderReranker(str(settings.model))
    key = settings.api_key.get_secret_value() if settings.api_key else None
    return ApiReranker(str(settings.api_base), settings.model, key, settings.timeout_s)
