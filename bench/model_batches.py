"""Where the model's batch cut comes from: the cost of one ONNX call, and the padding of ingestion's calls.

    .venv/bin/python bench/model_batches.py [PDF_DIR]   (default: tests/data)

1. cost: the app's ONNX session (the configured export, the configured threads) run on synthetic
   batches of 1-32 rows of 50-200 tokens, median of 7 runs each; a least-squares fit of
   ms = a + b x padded tokens + c x rows x tokens^2 gives the fixed cost of a call in tokens (a / b),
   which is RUN_OVERHEAD_TOKENS in app/models/onnx_embedding.py.
2. padding: the texts the app embeds for the PDFs, in the slices ingestion hands the model
   (app/documents/indexing.py: a first batch, then batches sorted by length, then slices), cut by
   `cut_batches` in calls of TEXTS_PER_CALL texts (now) and by filling each batch to its limit in
   calls of 32 texts (before: LlamaIndex's embed_batch_size was embeddings.batch_size; kept here as
   the baseline); padded tokens over real tokens, and the number of model runs. The model is not run.

Prints one JSON object.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHAPES = [(1, 200), (2, 200), (5, 200), (10, 200), (10, 100), (20, 100), (1, 50), (4, 50), (16, 50), (32, 50)]
SHAPES += [(10, 150), (13, 150)]


def filled(lengths: list[int], max_rows: int, max_tokens: int) -> list[range]:
    """Each batch filled to its limit (the baseline)."""
    batches, start = [], 0
    for j, n in enumerate(lengths):
        if j > start and (j - start + 1 > max_rows or (j - start + 1) * n > max_tokens):
            batches.append(range(start, j))
            start = j
    if lengths:
        batches.append(range(start, len(lengths)))
    return batches


def call_cost(session: Any) -> dict[str, Any]:
    import numpy as np

    from app.models.onnx_export import run_session

    def arrays(rows: int, n: int) -> dict[str, Any]:
        ids = np.full((rows, n), 1000, dtype=np.int64)
        return {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}

    for _ in range(5):
        run_session(session, arrays(10, 200))
    measured = []
    for rows, n in SHAPES:
        batch, times = arrays(rows, n), []
        for _ in range(7):
            started = time.perf_counter()
            run_session(session, batch)
            times.append(time.perf_counter() - started)
        measured.append((rows, n, sorted(times)[3] * 1000))
    a = np.array([[1.0, r * n, r * n * n] for r, n, _ in measured])
    (fixed_ms, per_token_ms, quadratic), *_ = np.linalg.lstsq(a, np.array([t for *_, t in measured]), rcond=None)
    return {
        "fixed_ms": round(float(fixed_ms), 2),
        "per_padded_token_ms": round(float(per_token_ms), 4),
        "per_row_token2_ms": float(quadratic),
        "fixed_in_tokens": round(float(fixed_ms / per_token_ms), 1),
        "ms_by_shape": {f"{r}x{n}": round(t, 2) for r, n, t in measured},
    }


def padding(pdf_dir: Path, container: Any) -> dict[str, Any]:
    from app.documents.indexing import EMBED_BATCH, EMBED_SLICE, FIRST_BATCH
    from app.models.onnx_embedding import BATCH_TOKENS, TEXTS_PER_CALL, cut_batches

    embedder = container.embedder
    max_rows = container.settings.embeddings.batch_size
    slices: list[list[int]] = []  # model input lengths (special tokens included) per embedding call
    for pdf in sorted(pdf_dir.glob("*.pdf")):
        texts = list(container.ingestion.indexer.texts(pdf))
        counts = [n + 2 for n in embedder.count_tokens(texts)]  # [CLS] and [SEP]
        i, size = 0, FIRST_BATCH
        while i < len(counts):
            batch = sorted(counts[i : i + size])
            i, size = i + size, EMBED_BATCH
            slices += [batch[s : s + EMBED_SLICE] for s in range(0, len(batch), EMBED_SLICE)]
    result: dict[str, Any] = {"chunks": sum(map(len, slices)), "calls": len(slices)}
    for name, cut, per_call in (("filled", filled, max_rows), ("cut_batches", cut_batches, TEXTS_PER_CALL)):
        real = padded = runs = 0
        for lengths in slices:
            for group in range(0, len(lengths), per_call):
                part = lengths[group : group + per_call]
                for rows in cut(part, max_rows, BATCH_TOKENS):
                    real += sum(part[r] for r in rows)
                    padded += len(rows) * part[rows[-1]]
                    runs += 1
        result[name] = {"model_runs": runs, "padding_pct_of_real_tokens": round(100 * (padded / real - 1), 2)}
    return result


def main() -> None:
    from app.config import load_settings
    from app.container import Container

    pdf_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "data"
    with tempfile.TemporaryDirectory(prefix="model-batches-") as tmp:
        container = Container(load_settings(ROOT / "config.yaml", data_dir=Path(tmp)))
        try:
            embedder = container.embedder
            embedder.load()
            onnx = embedder.embed
            session = onnx.session() if hasattr(onnx, "session") else None
            out: dict[str, Any] = {"backend": getattr(embedder, "backend", "?"), "pdfs": str(pdf_dir)}
            out["padding"] = padding(pdf_dir, container)
            out["call_cost"] = call_cost(session) if session is not None else "not an ONNX backend"
        finally:
            container.close()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
