"""Sweep retrieval settings on the evaluation set without re-ingesting for every setting.

    .venv/bin/python bench/retrieval_sweep.py                     # default grid
    .venv/bin/python bench/retrieval_sweep.py --workspace /tmp/ws --chunk-size 128 --chunk-overlap 24

The PDFs of tests/data are ingested once into --workspace (kept between runs; chunking settings
need a new workspace); every point of the grid then re-runs only retrieval, through the real
Retriever and Qdrant, and prints one JSON line of metrics per setting. Changing the sparse
tokenizer (app/models/sparse.py) needs a new workspace too, since documents are encoded at
ingestion.

Only the tuning split is swept: held-out questions (`"split": "heldout"`) are dropped on load, so
no setting is ever chosen by looking at them.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

from _workspace import QA, open_workspace

from app.answering.retrieval import Retriever
from app.evaluation.calibration import calibrate
from app.evaluation.runner import load_questions, retrieve_all, score, tuning_questions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/pdfqa-retrieval-sweep"))
    parser.add_argument("--chunk-size", type=int, default=200)
    parser.add_argument("--chunk-overlap", type=int, default=32)
    parser.add_argument("--fusion", nargs="+", default=["score", "rrf"])
    parser.add_argument("--dense-weight", nargs="+", type=float, default=[0.4, 0.5, 0.6, 0.7])
    parser.add_argument("--dense-weight-cjk", nargs="+", type=float, default=[0.1, 0.2, 0.3, 0.5])
    parser.add_argument("--candidates", nargs="+", type=int, default=[40])
    args = parser.parse_args()
    workspace = args.workspace / f"chunks-{args.chunk_size}-{args.chunk_overlap}"
    container = open_workspace(
        workspace, documents={"chunk_size": args.chunk_size, "chunk_overlap": args.chunk_overlap}
    )
    questions = tuning_questions(load_questions(QA))
    try:
        grid = itertools.product(args.fusion, args.dense_weight, args.dense_weight_cjk, args.candidates)
        for fusion, weight, weight_cjk, candidates in grid:
            settings = container.settings.retrieval.model_copy(
                update={
                    "fusion": fusion,
                    "dense_weight": weight,
                    "dense_weight_cjk": weight_cjk,
                    "candidates": candidates,
                }
            )
            retriever = Retriever(container.vector_store, container.embedder, container.registry, settings)
            started = time.perf_counter()
            results = retrieve_all(retriever, questions)
            metrics = score(questions, [row for row, _ in results])
            found = calibrate(questions, [r for _, r in results])
            print(
                json.dumps(
                    {
                        "chunk_size": args.chunk_size,
                        "fusion": fusion,
                        "dense_weight": weight,
                        "dense_weight_cjk": weight_cjk,
                        "candidates": candidates,
                        "seconds": round(time.perf_counter() - started, 1),
                        **{
                            f"{lang}_{k}": getattr(metrics[lang], k)
                            for lang in ("en", "ja", "all")
                            for k in ("hit1", "hit5", "mrr")
                        },
                        "abstainable": f"{found.abstained}/{found.unanswerable}",
                    }
                ),
                flush=True,
            )
    finally:
        container.close()


if __name__ == "__main__":
    main()
