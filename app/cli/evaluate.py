"""`eval --qa QUESTIONS.jsonl --docs DIR --output OUT.jsonl`: retrieval quality in a fresh workspace.

Scores the `retrieval.top_k` passages the language model would receive, and prints the metrics
overall, per language, per split ("tune", "heldout") and per split and language ("heldout/en").
`--answer` also answers every question with the configured model (llm.*), as a user would be
answered, and counts what the model does with the passages: answerable questions it declared not
found, unanswerable ones that ended refused or not found, answers citing an expected page.
Exits 1 when a floor (--min-hit5, --min-mrr, --min-abstention, --max-false-abstentions) is missed
on all questions, so CI fails when retrieval regresses.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.config import Settings

if TYPE_CHECKING:  # LlamaIndex and Qdrant load only when the command runs (`--help` stays fast)
    from app.evaluation.runner import Metrics


def register(sub: Any) -> None:
    p = sub.add_parser("eval", help="measure retrieval quality on a question set")
    p.add_argument("--qa", required=True, type=Path, help="JSONL: {id, question[, pdf, pages, lang, split]}")
    p.add_argument("--docs", required=True, type=Path, help="folder of PDFs to ingest")
    p.add_argument("--output", required=True, type=Path, help="JSONL with the ranked pages per question")
    p.add_argument("--mode", choices=["dense", "hybrid"], help="override retrieval.mode")
    p.add_argument("--rerank", choices=["off", "cross-encoder", "api"], help="override retrieval.rerank.provider")
    p.add_argument("--rerank-model", help="override retrieval.rerank.model (cross-encoder folder or API model)")
    p.add_argument("--summary", type=Path, help="also write the metrics as JSON here")
    p.add_argument(
        "--answer",
        action="store_true",
        help="also answer each question with the configured model (llm.*; costs tokens) and count "
        "what it declares not found",
    )
    p.add_argument(
        "--calibrate",
        action="store_true",
        help="also propose the weak-match thresholds calibrated on this question set (held-out split excluded)",
    )
    p.add_argument("--min-hit5", type=float, help="exit 1 when hit@5 (all questions) is below this")
    p.add_argument("--min-mrr", type=float, help="exit 1 when MRR (all questions) is below this")
    p.add_argument(
        "--min-abstention",
        type=float,
        help="exit 1 when a smaller share of the unanswerable questions ends refused or labelled weak",
    )
    p.add_argument(
        "--max-false-abstentions",
        type=int,
        help="exit 1 when more answerable questions are refused before the model (false refusals)",
    )
    p.set_defaults(handler=run)


def _retrieval_settings(settings: Settings, args: argparse.Namespace) -> Any:
    rerank = settings.retrieval.rerank.model_copy(
        update={k: v for k, v in (("provider", args.rerank), ("model", args.rerank_model)) if v}
    )
    # Validate the combination now (e.g. cross-encoder without a model) rather than mid-run.
    rerank = type(rerank).model_validate(rerank.model_dump())
    update: dict[str, Any] = {"rerank": rerank}
    if args.mode:
        update["mode"] = args.mode
    return settings.retrieval.model_copy(update=update)


def run(settings: Settings, args: argparse.Namespace) -> int:
    from app.container import Container
    from app.evaluation.calibration import calibrate
    from app.evaluation.runner import answer_all, ingest_folder, load_questions, retrieve_all, score

    questions = load_questions(args.qa)
    if not args.docs.is_dir():
        print(f"error: {args.docs} is not a folder", file=sys.stderr)
        return 2
    if args.answer and not settings.llm_enabled:
        print("error: --answer needs a model: set APP_LLM__API_KEY (and llm.api_base / llm.model)", file=sys.stderr)
        return 2
    retrieval = _retrieval_settings(settings, args)
    with tempfile.TemporaryDirectory(prefix="pdfqa-eval-") as tmp:
        # A fresh, private workspace: never the user's data, never a running server's embedded store.
        workspace = settings.model_copy(
            update={
                "data_dir": Path(tmp),
                "qdrant": settings.qdrant.model_copy(update={"url": None, "path": None}),
                "database": settings.database.model_copy(update={"url": None}),
                "retrieval": retrieval,
            }
        )
        with Container(workspace) as container:
            pages, seconds = ingest_folder(container.ingestion, args.docs)
            results = retrieve_all(container.retriever, questions)
            rows = [row for row, _ in results]
            if args.answer:
                answer_all(container.answers, questions, rows)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    metrics = score(questions, rows)
    rate = pages / seconds if seconds else 0.0
    print(
        f"ingested {pages} pages in {seconds:.1f} s ({rate:.1f} pages/s); mode={retrieval.mode} "
        f"fusion={retrieval.fusion} rerank={retrieval.rerank.provider} top_k={retrieval.top_k}"
    )
    if not any(q.labelled for q in questions):
        print(
            f"wrote the retrieved pages of {len(questions)} questions to {args.output}; none is labelled, so there "
            'are no scores (label a line with "pdf" and "pages" to score it, or "answerable": false when the '
            "documents cannot answer it)"
        )
        return 0
    for name, m in metrics.items():
        print(_line(name, m))
    summary: dict[str, Any] = {
        "pages": pages,
        "seconds": round(seconds, 2),
        "pages_per_s": round(rate, 2),
        "mode": retrieval.mode,
        "fusion": retrieval.fusion,
        "rerank": retrieval.rerank.provider,
        "top_k": retrieval.top_k,
        "metrics": {k: v.model_dump() for k, v in metrics.items()},
    }
    if args.calibrate:
        found = calibrate(questions, [r for _, r in results])
        summary["calibration"] = found.model_dump()
        print(
            f"calibration: abstain_min_dense={found.abstain_min_dense} (works from {found.dense_range[0]} to "
            f"{found.dense_range[1]}) abstain_min_sparse={found.abstain_min_sparse} (works from "
            f"{found.coverage_range[0]} to {found.coverage_range[1]}): labels {found.abstained}/"
            f"{found.unanswerable} unanswerable weak, 0 answerable (on {found.questions} questions, held-out excluded)"
        )
    if args.summary:
        args.summary.write_text(json.dumps(summary, indent=2))
    failed = _floors(metrics["all"], args)
    if failed:
        print("retrieval quality below the floor: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


def _line(name: str, m: Metrics) -> str:
    line = f"{name:>10}: questions={m.n} hit@1={m.hit1:.3f} hit@3={m.hit3:.3f} hit@5={m.hit5:.3f} mrr={m.mrr:.3f}"
    if m.unanswerable:
        line += (
            f" unanswerable={m.unanswerable} refused={m.abstained_correctly:.3f}"
            f" not_found_or_weak={m.not_found_or_weak:.3f}"
        )
    line += f" false_refusals={m.false_abstentions} weak_answerable={m.weak_answerable}"
    if m.answered_not_found is not None:
        line += f" answered_not_found={m.answered_not_found}"
        if m.cites_expected is not None:
            line += f" cites_expected={m.cites_expected:.3f}"
        if m.unanswerable_not_found is not None:
            line += f" unanswerable_not_found={m.unanswerable_not_found:.3f}"
    return line


def _floors(overall: Metrics, args: argparse.Namespace) -> list[str]:
    failed = []
    if args.min_hit5 is not None and overall.hit5 < args.min_hit5:
        failed.append(f"hit@5 {overall.hit5:.3f} < {args.min_hit5}")
    if args.min_mrr is not None and overall.mrr < args.min_mrr:
        failed.append(f"MRR {overall.mrr:.3f} < {args.min_mrr}")
    if args.min_abstention is not None and overall.not_found_or_weak < args.min_abstention:
        failed.append(
            f"refused or labelled weak {overall.not_found_or_weak:.3f} of unanswerable < {args.min_abstention}"
        )
    if args.max_false_abstentions is not None and overall.false_abstentions > args.max_false_abstentions:
        failed.append(f"false refusals {overall.false_abstentions} > {args.max_false_abstentions}")
    return failed
