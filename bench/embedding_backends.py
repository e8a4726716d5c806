"""The local embedding model alone: torch vs ONNX Runtime fp32 and int8, 1 vs 2 threads, on the app's chunks.

    .venv/bin/python bench/embedding_backends.py [--texts 300] [--rounds 2]

The texts are what ingestion embeds for the PDFs of tests/data (chunks with their section headers),
the first --texts of them. Every variant embeds the same texts in one call (sorted by token count,
batches of 32), in this one process, the variants interleaved round by round so that a change in
the machine's load hits all of them alike; prints the best wall time of each, its CPU time, and the
load average. Needs the onnx extra (the export is made once and cached, before timing).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    import torch

    from app.config import load_settings
    from app.container import Container
    from app.models.embeddings import build_embedding_model

    with tempfile.TemporaryDirectory() as tmp:
        container = Container(load_settings(ROOT / "config.yaml", data_dir=Path(tmp)))
        texts: list[str] = []
        for pdf in sorted((ROOT / "tests" / "data").glob("*.pdf")):
            texts.extend(container.ingestion.indexer.texts(pdf))
        container.close()
    texts = texts[:: max(1, len(texts) // args.texts)][: args.texts]  # spread over all the PDFs
    models = {}
    for backend in ("torch", "onnx", "onnx-int8"):
        for threads in (1, 2):
            overrides = {"backend": backend, "threads": threads}
            settings = load_settings(ROOT / "config.yaml", data_dir=Path("/nonexistent"), embeddings=overrides)
            models[(backend, threads)] = build_embedding_model(settings.embeddings)
            models[(backend, threads)].load()
    counts = models[("torch", 1)].count_tokens(texts)
    results: dict[str, list[tuple[float, float]]] = {}
    loads = [os.getloadavg()[0]]
    for _ in range(args.rounds):
        for (backend, threads), model in models.items():
            torch.set_num_threads(threads)  # process-wide for torch; the ONNX session has its own
            model.embed_documents(texts[:16])
            started, cpu = time.perf_counter(), time.process_time()
            model.embed_documents(texts, token_counts=counts)
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            results.setdefault(f"{backend} threads={threads}", []).append((wall, cpu))
        loads.append(os.getloadavg()[0])
    print(
        json.dumps(
            {
                "texts": len(texts),
                "tokens": sum(counts),
                "load_average": [round(x, 2) for x in loads],
                "best_wall_s": {k: round(min(w for w, _ in v), 2) for k, v in results.items()},
                "cpu_s_of_best": {k: round(min(v)[1], 2) for k, v in results.items()},
                "all_wall_s": {k: [round(w, 2) for w, _ in v] for k, v in results.items()},
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
