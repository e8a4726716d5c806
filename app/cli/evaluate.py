"""`eval --qa QUESTIONS.jsonl --docs DIR --output OUT.jsonl`: retrieval quality in a fresh workspace."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from app.config import Settings
from app.container import Container


def register(sub: Any) -> None:
    p = sub.add_parser("eval", help="measure retrieval quality on a question set")
    p.add_argument("--qa", required=True, type=Path, help="JSONL: {id, question[, pdf, pages, lang]}")
    p.add_argument("--docs", required=True, type=Path, help="folder of PDFs to ingest")
    p.add_argument("--output", required=True, type=Path, help="JSONL with the ranked pages per question")
    p.add_argument("--mode", choices=["dense", "hybrid"], help="override retrieval.mode")
    p.add_argument("--rerank", choices=["off", "cross-encoder"], help="override retrieval.rerank")
    p.add_argument("--summary", type=Path, help="also write the metrics as JSON here")
    p.add_argument("--min-hit5", type=float, help="exit 1 when hit@5 (all questions) is below this")
    p.add_argument("--min-mrr", type=float, help="exit 1 when MRR (all questions) is below this")
    p.set_defaults(handler=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    from app.evaluation.runner import ingest_folder, load_questions, run_questions, score

    questions = load_questions(args.qa)
    if not args.docs.is_dir():
        print(f"error: {args.docs} is not a folder", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="pdfqa-eval-") as tmp:
        retrieval = settings.retrieval.model_copy(
            update={k: v for k, v in (("mode", args.mode), ("rerank", args.rerank)) if v}
        )
        # A fresh, private workspace: never the user's data, never a running server's embedded store.
        workspace = settings.model_copy(update={
            "data_dir": Path(tmp), "qdrant": settings.qdrant.model_copy(update={"url": None, "path": None}),
            "database": settings.database.model_copy(update={"url": None}), "retrieval": retrieval,
        })
        container = Container(workspace)
        try:
            pages, seconds = ingest_folder(container.ingestion, args.docs)
            rows = run_questions(container.retriever, questions)
        finally:
            container.close()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    metrics = score(questions, rows)
    rate = pages / seconds if seconds else 0.0
    print(f"ingested {pages} pages in {seconds:.1f} s ({rate:.1f} pages/s); mode={retrieval.mode} rerank={retrieval.rerank}")
    for name, m in metrics.items():
        line = f"{name:>4}: questions={m.n} hit@1={m.hit1:.3f} hit@3={m.hit3:.3f} hit@5={m.hit5:.3f} mrr={m.mrr:.3f}"
        if m.unanswerable:
            line += f" unanswerable={m.unanswerable} abstained={m.abstained_correctly:.3f}"
        line += f" false_abstentions={m.false_abstentions}"
        print(line)
    if args.summary:
        summary = {"pages": pages, "seconds": round(seconds, 2), "pages_per_s": round(rate, 2),
                   "mode": retrieval.mode, "rerank": retrieval.rerank,
                   "metrics": {k: v.model_dump() for k, v in metrics.items()}}
        args.summary.write_text(json.dumps(summary, indent=2))
    overall = metrics["all"]
    failed = []
    if args.min_hit5 is not None and overall.hit5 < args.min_hit5:
        failed.append(f"hit@5 {overall.hit5:.3f} < {args.min_hit5}")
    if args.min_mrr is not None and overall.mrr < args.min_mrr:
        failed.append(f"MRR {overall.mrr:.3f} < {args.min_mrr}")
    if failed:
        print("retrieval quality below the floor: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0
