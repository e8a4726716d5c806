"""Calibrate the weak-match thresholds (`retrieval.abstain_min_dense`, `abstain_min_sparse`) on an
evaluation set.

The rule (see `Retriever._weak`) calls a match weak when best dense similarity < `abstain_min_dense`
AND term coverage < `abstain_min_sparse`. A weak match is no longer refused (the model reads the
passages and says when they do not answer; without a model they are shown labelled weak), but the
label should still fall on unanswerable questions, not answerable ones. Calibration searches a grid
for the pairs that label the most unanswerable questions while labelling no answerable one, and
proposes the pair in the middle of that region (the largest margin to both kinds of mistake).
(The keys keep their old names, so that existing configuration files still load.)

Held-out questions (`"split": "heldout"`) and unlabelled ones are left out: thresholds chosen on
the held-out split would make its scores an optimistic estimate.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from app.answering.retrieval import Retrieval
from app.evaluation.runner import Question

DENSE_GRID = [round(0.20 + 0.01 * i, 2) for i in range(61)]  # 0.20 .. 0.80
COVERAGE_GRID = [round(0.05 + 0.01 * i, 2) for i in range(91)]  # 0.05 .. 0.95


class Calibration(BaseModel):
    abstain_min_dense: float
    abstain_min_sparse: float
    abstained: int  # unanswerable questions labelled weak with these thresholds
    unanswerable: int
    questions: int  # questions calibrated on (held-out and unlabelled ones excluded)
    false_abstentions: int  # always 0: a pair that labels an answerable question weak is never proposed
    dense_range: tuple[float, float]  # thresholds that achieve the same, for judging the margin
    coverage_range: tuple[float, float]


def calibrate(questions: Sequence[Question], retrievals: Sequence[Retrieval]) -> Calibration:
    signals = [
        (r.best_dense, r.coverage, not q.unanswerable)
        for q, r in zip(questions, retrievals, strict=True)
        if q.labelled and not q.held_out
    ]
    unanswerable = sum(not answerable for _, _, answerable in signals)
    best = -1
    feasible: list[tuple[float, float]] = []
    for dense in DENSE_GRID:
        for coverage in COVERAGE_GRID:
            refused = [d < dense and c < coverage for d, c, _ in signals]
            if any(r and answerable for r, (_, _, answerable) in zip(refused, signals, strict=True)):
                continue
            hits = sum(r and not answerable for r, (_, _, answerable) in zip(refused, signals, strict=True))
            if hits > best:
                best, feasible = hits, []
            if hits == best:
                feasible.append((dense, coverage))
    dense_values = sorted({d for d, _ in feasible})
    mid_dense = dense_values[len(dense_values) // 2]
    coverages = sorted(c for d, c in feasible if d == mid_dense)
    return Calibration(
        abstain_min_dense=mid_dense,
        abstain_min_sparse=coverages[len(coverages) // 2],
        abstained=max(best, 0),
        unanswerable=unanswerable,
        questions=len(signals),
        false_abstentions=0,
        dense_range=(dense_values[0], dense_values[-1]),
        coverage_range=(coverages[0], coverages[-1]),
    )
