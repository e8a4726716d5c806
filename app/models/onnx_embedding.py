"""A local sentence-transformers model on ONNX Runtime, quantised to int8 (embeddings.backend: onnx-int8).

The ONNX file is made once on this machine from the model folder's own weights (torch export of the
transformer with its mean pooling and normalisation, then ONNX Runtime's dynamic int8 quantisation of
the weight matrices, per output channel: per-tensor quantisation of all-MiniLM-L6-v2 moved vectors to
a cosine of 0.94 with the original, per channel keeps 0.99) and cached under `embeddings.onnx_cache_dir`,
keyed by the weights file. After that, loading needs neither torch nor transformers: ONNX Runtime and
the `tokenizers` library only, which is most of what makes a CLI ingest start quickly.

Only the architecture the export reproduces is accepted (a transformer, mean pooling, optional
normalisation); anything else is a configuration error that names `backend: torch`.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from loguru import logger
from pydantic import PrivateAttr

from app.errors import ConfigError

EXPORT_VERSION = 1  # bump when the export or quantisation changes: old cache entries are then ignored
MODEL_FILE = "model-int8.onnx"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pdfqa" / "onnx"


def check_exportable(model_dir: Path) -> None:
    """Refuse a model whose output the export would not reproduce."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text())
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling = next(m for m in modules if m["type"].endswith(".Pooling"))
        mean = json.loads((model_dir / pooling["path"] / "config.json").read_text()).get("pooling_mode_mean_tokens")
    except (OSError, ValueError, KeyError, StopIteration) as e:
        raise ConfigError(
            f"embeddings.backend onnx-int8 needs a sentence-transformers folder (modules.json, pooling config) "
            f"at {model_dir}; set embeddings.backend: torch for this model"
        ) from e
    if kinds[:2] != ["Transformer", "Pooling"] or not mean or set(kinds[2:]) - {"Normalize"}:
        raise ConfigError(
            f"embeddings.backend onnx-int8 supports transformer + mean pooling (+ normalize) models; "
            f"{model_dir.name} has {kinds}: set embeddings.backend: torch"
        )


def cache_key(model_dir: Path) -> str:
    """Which cached export belongs to these weights (path, size and time of the weights file)."""
    weights = next(
        (model_dir / n for n in ("model.safetensors", "pytorch_model.bin") if (model_dir / n).exists()), None
    )
    if weights is None:
        raise ConfigError(f"no model weights (model.safetensors) in {model_dir}")
    stat = weights.stat()
    ident = f"{EXPORT_VERSION}:{weights.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    return hashlib.sha256(ident.encode()).hexdigest()[:16]


def ensure_onnx_model(model_dir: Path, cache_dir: Path) -> Path:
    """The cached int8 ONNX file for `model_dir`, exported first if missing (one process at a time)."""
    check_exportable(model_dir)
    target = cache_dir / f"{model_dir.name}-{cache_key(model_dir)}"
    if (target / MODEL_FILE).exists():
        return target / MODEL_FILE
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be exporting the same model
        if not (target / MODEL_FILE).exists():
            started = time.perf_counter()
            work = cache_dir / f".{target.name}.tmp-{os.getpid()}"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            try:
                export_int8(model_dir, work)
                shutil.rmtree(target, ignore_errors=True)
                os.replace(work, target)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            logger.info(
                "embedding model exported to ONNX int8 (once) model={} path={} seconds={:.1f}",
                model_dir.name,
                target,
                time.perf_counter() - started,
            )
    return target / MODEL_FILE


def export_int8(model_dir: Path, out: Path) -> None:
    """torch export (transformer + mean pooling + L2 normalisation), then int8 weights per channel."""
    try:
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from transformers import AutoModel
    except ImportError as e:
        raise ConfigError(
            f"embeddings.backend onnx-int8 needs torch, transformers, onnx and onnxruntime to make the model "
            f"once ({e.name} is missing): pip install '.[onnx]', or set embeddings.backend: torch"
        ) from e

    normalize = "Normalize" in (model_dir / "modules.json").read_text()

    class Pooled(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1) if normalize else mean

    model = AutoModel.from_pretrained(str(model_dir)).eval()
    ids = torch.ones(2, 16, dtype=torch.long)
    axes = {name: {0: "batch", 1: "tokens"} for name in INPUTS}
    with torch.no_grad():
        torch.onnx.export(
            Pooled(model),
            (ids, ids, torch.zeros_like(ids)),
            str(out / "model-fp32.onnx"),
            input_names=list(INPUTS),
            output_names=["embedding"],
            dynamic_axes={**axes, "embedding": {0: "batch"}},
            opset_version=17,
            dynamo=False,  # the TorchScript exporter: no onnxscript needed, and it handles this model
        )
    quantize_dynamic(
        str(out / "model-fp32.onnx"),
        str(out / MODEL_FILE),
        weight_type=QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=["MatMul"],  # the weight matrices; embeddings and attention stay float
    )
    (out / "model-fp32.onnx").unlink()


def load_tokenizer(model_dir: Path) -> Any:
    """The model's own fast tokenizer (tokenizer.json) without transformers; no truncation, no padding."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


class OnnxEmbedding(BaseEmbedding):
    """LlamaIndex embedding over an ONNX Runtime session. Texts are tokenised together, sorted by
    token count and batched, so a batch pads to similar lengths (padding is computed for nothing)."""

    _session: Any = PrivateAttr()
    _tokenizer: Any = PrivateAttr()
    _max_length: int = PrivateAttr()
    _query_prefix: str = PrivateAttr()
    _text_prefix: str = PrivateAttr()

    def __init__(
        self,
        onnx_file: Path,
        model_dir: Path,
        max_length: int,
        embed_batch_size: int = 32,
        threads: int | None = None,
        query_prefix: str = "",
        text_prefix: str = "",
        **kwargs: Any,
    ) -> None:
        import onnxruntime as ort

        super().__init__(model_name=str(model_dir), embed_batch_size=embed_batch_size, **kwargs)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        # Spinning threads wait for work by burning CPU: on a shared 2-core machine they took 3x longer.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        self._tokenizer = load_tokenizer(model_dir)
        self._tokenizer.enable_truncation(max_length)
        self._max_length = max_length
        self._query_prefix = query_prefix
        self._text_prefix = text_prefix

    @classmethod
    def class_name(cls) -> str:
        return "OnnxEmbedding"

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        import numpy as np

        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out: list[Any] = [None] * len(texts)
        for start in range(0, len(order), self.embed_batch_size):
            batch = order[start : start + self.embed_batch_size]
            width = max(len(encodings[i].ids) for i in batch)
            arrays = {name: np.zeros((len(batch), width), dtype=np.int64) for name in INPUTS}
            for row, i in enumerate(batch):
                e = encodings[i]
                n = len(e.ids)
                arrays["input_ids"][row, :n] = e.ids
                arrays["attention_mask"][row, :n] = e.attention_mask
                arrays["token_type_ids"][row, :n] = e.type_ids
            vectors = self._session.run(None, arrays)[0]
            for row, i in enumerate(batch):
                out[i] = vectors[row].tolist()
        return out

    def embed_queries(self, queries: Sequence[str]) -> list[list[float]]:
        """Several questions in one call (app/models/batching.py coalesces simultaneous ones)."""
        return self.embed([self._query_prefix + q for q in queries])

    def _get_query_embedding(self, query: str) -> list[float]:
        return self.embed_queries([query])[0]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self.embed([self._text_prefix + text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self.embed([self._text_prefix + t for t in texts])
