"""What ingestion costs besides the embedding model: `python -m app ingest` with the model's call
replaced by random vectors, on a fresh data dir (the pipeline, reader, chunking, sparse encoding,
store and start-up, everything but the model).

    .venv/bin/python bench/ingest_without_model.py [PDF_DIR]   (default: tests/data)

Prints wall and CPU seconds of the whole command (children included). Compare with
bench/ingest_vs_tutorial.py's `model_alone` to see how much of a real ingestion is not the model.
"""

from __future__ import annotations

import json
import os
import random
import runpy
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ingest_vs_tutorial import USER, add_user  # the same bench user, made the same way

ROOT = Path(__file__).resolve().parents[1]


def _child(pdf_dir: str) -> None:
    sys.path.insert(0, str(ROOT))
    from app.models.embeddings import EmbeddingModel

    def random_vectors(self, texts, owner=None, token_counts=None):  # type: ignore[no-untyped-def]
        return [[random.random() for _ in range(384)] for _ in texts]

    EmbeddingModel.embed_documents = random_vectors  # type: ignore[method-assign]
    EmbeddingModel.load = lambda self: None  # type: ignore[method-assign]
    EmbeddingModel.prepare = lambda self: None  # type: ignore[method-assign]  # no ONNX session either
    sys.argv = ["app", "ingest", pdf_dir, "--user", USER]
    runpy.run_module("app", run_name="__main__")


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        _child(sys.argv[2])
        return
    pdf_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "data"
    with tempfile.TemporaryDirectory(prefix="ingest-without-model-") as tmp:
        env = {**os.environ, "APP_DATA_DIR": tmp, "PYTHONPATH": str(ROOT)}
        add_user(env)
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, __file__, "--child", str(pdf_dir)], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        output = process.stdout.read() if process.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"ingest failed:\n{output[-2000:]}")
    print(
        json.dumps(
            {
                "pdf_dir": str(pdf_dir),
                "wall_s": round(seconds, 2),
                "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
                "load": round(os.getloadavg()[0], 2),
                "output": output.strip().splitlines(),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
