"""The claim check as the question flow runs it: once per complete answer, on the answer's text and
its citations, timed and counted; never the reason an answer fails.

Only a written answer that cites passages is checked (mode `generated`); a refusal, a "not found",
the best passages shown without a model and a stopped answer get no claims. Any error of the check
is logged and the answer goes on without claims (None, stored as null). With the optional judge
(`chat.claim_judge`), the chat model decides instead of the scoring, with the user's key; its tokens
are recorded (kind `judge`) and charged to the question like the answer's own.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from loguru import logger

from app import metrics
from app.answering.claims import ClaimChecker, EmbedFn
from app.answering.claims_judge import LLMJudge
from app.domain import Claim, Usage

if TYPE_CHECKING:
    from app.answering.service import Answer
    from app.models.llm import ChatModel
    from app.usage.accounting import UsageRecorder

CHECKED_MODES = ("generated",)
CACHED_VECTORS = 4096  # passages (and sentences) whose vectors are kept: 384 floats each, about 6 MB


class VectorCache:
    """`embed` with the vectors of the last `size` texts kept: the passages of a document come back
    answer after answer (those without a stored vector are embedded here), and so do sentences of a
    retried or cached answer."""

    def __init__(self, embed: EmbedFn, size: int = CACHED_VECTORS) -> None:
        self._embed = embed
        self._size = size
        self._vectors: OrderedDict[str, Sequence[float]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str]) -> list[Sequence[float]]:
        with self._lock:
            vectors = {t: self._vectors[t] for t in texts if t in self._vectors}
            for text in vectors:
                self._vectors.move_to_end(text)
        missing = [t for t in dict.fromkeys(texts) if t not in vectors]
        if missing:
            vectors.update(zip(missing, self._embed(missing), strict=True))
            with self._lock:
                for text in missing:
                    self._vectors[text] = vectors[text]
                    self._vectors.move_to_end(text)
                while len(self._vectors) > self._size:
                    self._vectors.popitem(last=False)
        return [vectors[t] for t in texts]


class AnswerClaims:
    """Runs `ClaimChecker` for ChatService. `embed`: the app's embedding model (the cut-offs were
    chosen with the packaged all-MiniLM-L6-v2); `judge_model`: the chat model when the LLM judge is
    on, else None; `usage` records the judge's tokens; `stored_vectors`: `embed` is the model the
    index was built with, so the passages' stored vectors (Citation.vector) are used as they are
    and only the answer's sentences are embedded."""

    def __init__(
        self,
        embed: EmbedFn | None,
        judge_model: ChatModel | None = None,
        usage: UsageRecorder | None = None,
        stored_vectors: bool = False,
    ) -> None:
        self._embed = VectorCache(embed) if embed is not None else None
        self._judge_model = judge_model
        self._usage = usage
        self._stored_vectors = stored_vectors  # `embed` is the index's model: citations' vectors fit

    @property
    def judged(self) -> bool:
        return self._judge_model is not None

    def check(
        self, owner: str, answer: Answer, api_key: str | None = None, spent: Usage | None = None, judge: bool = True
    ) -> list[Claim] | None:
        """The claims of `answer` ([] when it is not checked), or None when the check failed.
        `spent` adds the judge's tokens; `judge=False` scores without it (a cached answer)."""
        if answer.mode not in CHECKED_MODES or not answer.citations:
            return []
        started = time.perf_counter()
        judging = LLMJudge(self._judge_model, api_key) if judge and self._judge_model is not None else None
        try:
            checker = ClaimChecker(embed=self._embed, judge=judging, stored_vectors=self._stored_vectors)
            claims = checker.check(answer.answer, answer.citations)
        except Exception as e:  # the answer is worth more than its check
            metrics.CLAIM_CHECK_FAILURES.inc()
            logger.bind(user=owner).opt(exception=e).warning("claim check failed error={}", type(e).__name__)
            return None
        finally:
            if judging is not None and judging.usage.total:
                self._account(owner, judging, spent)
        seconds = time.perf_counter() - started
        metrics.CLAIM_CHECK_SECONDS.observe(seconds)
        counts = {"supported": 0, "weak": 0, "unsupported": 0}
        for claim in claims:
            counts[claim.support] += 1
            metrics.CLAIMS.labels(claim.support).inc()
        logger.bind(user=owner).info(
            "claims checked supported={} weak={} unsupported={} judge={} seconds={:.3f}",
            counts["supported"],
            counts["weak"],
            counts["unsupported"],
            judging is not None,
            seconds,
        )
        return claims

    def _account(self, owner: str, judging: LLMJudge, spent: Usage | None) -> None:
        if spent is not None:
            spent.add(judging.usage)
        if self._usage is not None and self._judge_model is not None:
            self._usage.record(owner, "judge", self._judge_model.model, judging.usage)
