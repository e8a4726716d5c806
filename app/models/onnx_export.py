"""A local sentence-transformers model on ONNX Runtime: fp32, and int8 (what `embeddings.backend: auto`
builds a new index with; an index built with fp32 keeps fp32).

The ONNX files are made once on this machine from the model folder's own weights and cached under
`embeddings.onnx_cache_dir`, keyed by the weights file:

1. torch export of the transformer (eager attention, so ONNX Runtime's optimizer recognises it)
   with its mean pooling and normalisation;
2. ONNX Runtime's transformer fusions (attention, layer norms, GELU): 1.27x the speed of
   sentence-transformers on 2 cores on length-sorted texts (bench/embedding_backends.py), with the
   same vectors (checked at export against the torch model on probe texts; a fused graph that
   disagrees is dropped for the plain export);
3. an int8 copy: dynamic quantisation of the weight matrices per output channel, except the
   matrices after GELU (the feed-forward outputs, whose inputs have the outliers that move vectors
   most: excluding them keeps a mean cosine of 0.997 with the fp32 vectors on the manuals' chunks,
   against 0.992 when everything is quantised; per-tensor quantisation gave 0.94) and the last
   layer, with 7-bit weights (`reduce_range`): on a CPU without VNNI (AVX2 only) full-range int8
   gave 0.991 and the last layer quantised 0.9946. An int8 export cached before this change stays
   in use until the cache folder is emptied (EXPORT_VERSION is not bumped: a machine without
   torch could not make the new one);
4. the tensors both files hold alike (the float word embeddings, feed-forward outputs and last
   layer: 67 of the int8 file's 73 MB) stored once, in a file both point at (ONNX external data),
   so keeping both exports (int8 for new indexes, fp32 for indexes built before int8 was `auto`'s
   choice) costs 6 MB more than fp32 alone. The same bytes: the vectors do not change. Exports
   cached before this step hold their own copies and stay in use.

After that, loading needs neither torch nor transformers: ONNX Runtime and the `tokenizers`
library only, which is most of what makes a CLI ingest start quickly and keeps the server small.

Only the architecture the export reproduces is accepted (a transformer, mean pooling, optional
normalisation); anything else stays on sentence-transformers (`backend: auto`) or is a
configuration error that names `backend: torch`.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import threading
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from loguru import logger

from app.errors import ConfigError

EXPORT_VERSION = 2  # bump when the export or quantisation changes: old cache entries are then ignored
FILES = {"fp32": "model-fp32.onnx", "int8": "model-int8.onnx"}
SHARED = "weights-shared.bin"  # the tensors both files hold alike, once (step 4 above)
SHARED_MIN_BYTES = 1 << 16  # smaller tensors stay inside each file
Precision = Literal["fp32", "int8"]
WEIGHTS = ("model.safetensors", "pytorch_model.bin")
# Left by strip_weights in a model folder whose weights were removed after the export: the identity
# of those weights (what the cache key was made from).
WEIGHTS_STRIPPED = "weights-stripped-after-onnx-export.txt"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
GELU_OPS = {"Gelu", "BiasGelu", "FastGelu"}
# Sentences the export is checked on: both languages, different lengths (so rows are padded).
PROBES = [
    "How do I change the shell prompt?",
    "natbib prints superscript numbers when the option super is given to the package.",
    "BXJS クラスで用紙サイズを何も指定しなかった場合、何判になりますか？",
    "The ingestion pipeline reads pages one at a time, chunks them, embeds batches sorted by token "
    "count and stores the vectors, so that a long manual is never held in memory at once. " * 3,
]
FP32_MIN_COSINE = 0.9999


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pdfqa" / "onnx"


def exportable_reason(model_dir: Path) -> str | None:
    """Why the export would not reproduce this model's output (None: it would)."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text())
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling = next(m for m in modules if m["type"].endswith(".Pooling"))
        mean = json.loads((model_dir / pooling["path"] / "config.json").read_text()).get("pooling_mode_mean_tokens")
    except (OSError, ValueError, KeyError, StopIteration):
        return f"{model_dir} is not a sentence-transformers folder (modules.json, pooling config)"
    if kinds[:2] != ["Transformer", "Pooling"] or not mean or set(kinds[2:]) - {"Normalize"}:
        return f"ONNX supports transformer + mean pooling (+ normalize) models; {model_dir.name} has {kinds}"
    if _weights(model_dir) is None and not (model_dir / WEIGHTS_STRIPPED).exists():
        return f"no model weights (model.safetensors) in {model_dir}"
    if not (model_dir / "tokenizer.json").exists():
        return f"no tokenizer.json in {model_dir}"
    return None


def check_exportable(model_dir: Path) -> None:
    """Refuse a model whose output the export would not reproduce."""
    reason = exportable_reason(model_dir)
    if reason:
        raise ConfigError(f"embeddings.backend onnx: {reason}; set embeddings.backend: torch for this model")


def _weights(model_dir: Path) -> Path | None:
    return next((model_dir / n for n in WEIGHTS if (model_dir / n).exists()), None)


def _weights_ident(model_dir: Path) -> str:
    weights = _weights(model_dir)
    if weights is not None:
        stat = weights.stat()
        return f"{weights.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    stripped = model_dir / WEIGHTS_STRIPPED
    if stripped.exists():  # exported, then the weights removed (strip_weights)
        return stripped.read_text().strip()
    raise ConfigError(f"no model weights (model.safetensors) in {model_dir}")


def cache_key(model_dir: Path) -> str:
    """Which cached export belongs to these weights (path, size and time of the weights file)."""
    ident = f"{EXPORT_VERSION}:{_weights_ident(model_dir)}"
    return hashlib.sha256(ident.encode()).hexdigest()[:16]


def strip_weights(model_dir: Path, cache_dir: Path) -> int:
    """Remove the weights of a model whose exports (fp32 and int8) are made, keeping what identified
    them, so the exports stay found and nothing else is needed to run it on ONNX Runtime (the Docker
    image: 90 MB less for all-MiniLM-L6-v2). Returns the bytes freed. Only the ONNX backends can run
    the model afterwards."""
    weights = _weights(model_dir)
    if weights is None:
        raise ConfigError(f"no model weights (model.safetensors) in {model_dir}")
    for precision in FILES:
        if not cached_onnx_model(model_dir, cache_dir, precision).exists():  # type: ignore[arg-type]
            raise ConfigError(f"no {precision} export of {model_dir} in {cache_dir}: export before stripping")
    ident, size = _weights_ident(model_dir), weights.stat().st_size
    (model_dir / WEIGHTS_STRIPPED).write_text(ident + "\n")
    weights.unlink()
    return size


def cached_onnx_model(model_dir: Path, cache_dir: Path, precision: Precision = "fp32") -> Path:
    """Where the export of `model_dir` is cached (the file may not exist yet)."""
    return cache_dir / f"{model_dir.name}-{cache_key(model_dir)}" / FILES[precision]


def ensure_onnx_model(model_dir: Path, cache_dir: Path, precision: Precision = "fp32") -> Path:
    """The cached ONNX file for `model_dir`, exported first if missing (one process at a time)."""
    check_exportable(model_dir)
    onnx_file = cached_onnx_model(model_dir, cache_dir, precision)
    if onnx_file.exists():
        return onnx_file
    target = onnx_file.parent
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be exporting the same model
        if not onnx_file.exists():
            started = time.perf_counter()
            work = cache_dir / f".{target.name}.tmp-{os.getpid()}"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            try:
                report = export(model_dir, work)
                (work / "export.json").write_text(json.dumps(report, indent=1))
                shutil.rmtree(target, ignore_errors=True)
                os.replace(work, target)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            logger.info(
                "embedding model exported to ONNX (once) model={} path={} seconds={:.1f} fused={} int8_cosine={}",
                model_dir.name,
                target,
                time.perf_counter() - started,
                report["fused"],
                report["int8_mean_cosine"],
            )
    return onnx_file


def export(model_dir: Path, out: Path) -> dict[str, Any]:
    """Both files into `out`: fp32 (fused when the fusion reproduces the model) and int8. Returns
    what was checked (fusion kept, cosines against the torch model on the probes)."""
    try:
        import numpy as np
        import onnx  # noqa: F401  (the fusion and quantisation below read and write ONNX graphs)
        import torch
        from transformers import AutoModel
    except ImportError as e:
        raise ConfigError(
            f"embeddings.backend onnx needs torch, transformers and onnx to make the model once ({e.name} is "
            "missing: pip install 'pdfqa[torch]'), or an export already made in embeddings.onnx_cache_dir"
        ) from e

    if _weights(model_dir) is None:
        raise ConfigError(
            f"the weights of {model_dir.name} were removed after its ONNX export ({WEIGHTS_STRIPPED}): "
            "only the exports already in embeddings.onnx_cache_dir can run (backend onnx or onnx-int8)"
        )
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

    # Eager attention: the exported graph then has the pattern ONNX Runtime fuses into one op.
    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    pooled = Pooled(model)
    # What the model gives, before exporting: after a TorchScript trace the same module gives other
    # vectors for padded rows (seen with transformers 5: cosine 0.94-0.98).
    tokenizer = load_tokenizer(model_dir)
    tokenizer.enable_truncation(min(getattr(model.config, "max_position_embeddings", 512), 512))
    arrays = batch_inputs(tokenizer.encode_batch(PROBES))
    with torch.no_grad():
        expected = pooled(*(torch.from_numpy(arrays[name]) for name in INPUTS)).numpy()
    ids = torch.ones(2, 16, dtype=torch.long)
    axes = {name: {0: "batch", 1: "tokens"} for name in INPUTS}
    raw = out / "model-raw.onnx"
    with torch.no_grad(), warnings.catch_warnings():
        # The tracer's TracerWarnings (shapes taken as constants) concern graphs other than this one:
        # the probes below check the exported model's vectors, so they would only alarm an operator.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(
            pooled,
            (ids, ids, torch.zeros_like(ids)),
            str(raw),
            input_names=list(INPUTS),
            output_names=["embedding"],
            dynamic_axes={**axes, "embedding": {0: "batch"}},
            opset_version=17,
            dynamo=False,  # the TorchScript exporter: no onnxscript needed, and it handles this model
        )

    def cosines(path: Path) -> Any:
        got = run_session(new_session(path, threads=1), arrays)
        return (got * expected).sum(1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(expected, axis=1))

    fused = out / "model-fused.onnx"
    try:
        _fuse(raw, fused, model.config)
        fused_ok = bool(cosines(fused).min() >= FP32_MIN_COSINE)
    except Exception as e:  # the optimiser does not know this graph: the plain export is as correct
        logger.warning("ONNX fusion skipped model={} reason={}", model_dir.name, str(e).splitlines()[0][:200])
        fused_ok = False
    os.replace(fused if fused_ok else raw, out / FILES["fp32"])
    fp32_min = float(cosines(out / FILES["fp32"]).min())
    if not fp32_min >= FP32_MIN_COSINE:
        raise ConfigError(f"the ONNX export of {model_dir.name} does not reproduce the model; use backend: torch")
    _quantize(out / FILES["fp32"], out / FILES["int8"])
    for leftover in (raw, fused):
        leftover.unlink(missing_ok=True)
    shared = _share_weights(out)
    fp32_min = float(cosines(out / FILES["fp32"]).min())  # read again, through the shared file
    if not fp32_min >= FP32_MIN_COSINE:
        raise ConfigError(f"the ONNX export of {model_dir.name} does not reproduce the model; use backend: torch")
    return {
        "fused": fused_ok,
        "fp32_min_cosine": round(fp32_min, 6),
        "int8_mean_cosine": round(float(cosines(out / FILES["int8"]).mean()), 4),
        "shared_bytes": shared,
    }


def _share_weights(out: Path) -> int:
    """Move the initializers the int8 file holds byte for byte as the fp32 one into SHARED, both
    files pointing at the one copy (ONNX external data, offsets page-aligned so ONNX Runtime may
    map them). Returns the bytes shared."""
    import onnx
    from onnx.external_data_helper import set_external_data

    fp32, int8 = onnx.load(str(out / FILES["fp32"])), onnx.load(str(out / FILES["int8"]))
    own = {t.name: t for t in fp32.graph.initializer}
    shared = 0
    with open(out / SHARED, "wb") as f:
        for tensor in int8.graph.initializer:
            twin = own.get(tensor.name)
            if (
                twin is None
                or len(tensor.raw_data) < SHARED_MIN_BYTES
                or (twin.data_type, list(twin.dims), twin.raw_data)
                != (tensor.data_type, list(tensor.dims), tensor.raw_data)
            ):
                continue
            offset, length = f.tell() + -f.tell() % 4096, len(tensor.raw_data)
            f.seek(offset)
            f.write(tensor.raw_data)
            for t in (tensor, twin):
                set_external_data(t, SHARED, offset, length)
                t.data_location = onnx.TensorProto.EXTERNAL
                t.ClearField("raw_data")
            shared += length
    for model, name in ((fp32, FILES["fp32"]), (int8, FILES["int8"])):
        tmp = out / f"{name}.tmp"
        onnx.save_model(model, str(tmp))
        os.replace(tmp, out / name)
    return shared


def _fuse(source: Path, target: Path, config: Any) -> None:
    """ONNX Runtime's transformer fusions, at the level that does not depend on this CPU's features."""
    from onnxruntime.transformers.optimizer import optimize_model

    optimized = optimize_model(
        str(source),
        model_type="bert",
        num_heads=int(config.num_attention_heads),
        hidden_size=int(config.hidden_size),
        opt_level=1,
    )
    optimized.save_model_to_file(str(target))


_LAYER = re.compile(r"/layer\.(\d+)/")


def _quantize(source: Path, target: Path) -> None:
    """int8 weights per output channel, except the matrices fed by GELU (see the module's docstring)."""
    import onnx

    graph = onnx.load(str(source)).graph
    after_gelu = {o for n in graph.node if n.op_type in GELU_OPS for o in n.output}
    matmuls = [n for n in graph.node if n.op_type == "MatMul"]
    if after_gelu:
        keep = [n.name for n in matmuls if n.input[0] in after_gelu]
    else:  # unfused: GELU is spelled out; the feed-forward output keeps its export name
        keep = [n.name for n in matmuls if "/output/dense" in n.name and "attention" not in n.name]
    # The last layer stays float too: its errors reach the pooled vector undamped (with 7-bit weights
    # on an AVX2-only CPU, mean cosine to the float model 0.9946 with it quantised).
    last = max((int(m.group(1)) for n in matmuls if (m := _LAYER.search(n.name))), default=None)
    if last is not None:
        keep += [n.name for n in graph.node if n.op_type in ("MatMul", "Attention") and f"layer.{last}/" in n.name]
        keep += [n.name for n in graph.node if n.op_type == "Attention" and n.name == f"Attention_{last}"]
    quiet = _DropMessage("Please consider to run pre-processing before quantization")
    logging.getLogger().addFilter(quiet)  # advice for static quantisation; this one is dynamic
    try:
        _quantize_dynamic(source, target, keep)
    finally:
        logging.getLogger().removeFilter(quiet)


class _DropMessage(logging.Filter):
    def __init__(self, start: str) -> None:
        super().__init__()
        self.start = start

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.start)


def _quantize_dynamic(source: Path, target: Path, keep: list[str]) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(source),
        str(target),
        weight_type=QuantType.QInt8,
        per_channel=True,
        # 7-bit weights: without VNNI (AVX2-only CPUs, e.g. AMD EPYC here) ONNX Runtime's u8s8 int8
        # products can saturate; full range gave a mean cosine to the float model of 0.991 there
        # against 0.997 on a VNNI machine (ONNX Runtime's quantization docs recommend reduce_range).
        reduce_range=True,
        op_types_to_quantize=["MatMul", "Attention"],  # the weight matrices; embeddings stay float
        nodes_to_exclude=keep,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},  # types of fused ops' outputs
    )


def load_tokenizer(model_dir: Path) -> Any:
    """The model's own fast tokenizer (tokenizer.json) without transformers; no truncation, no padding."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def batch_inputs(encodings: Sequence[Any]) -> dict[str, Any]:
    """Padded int64 arrays of a batch of encodings, zeros after each row's tokens."""
    import numpy as np

    width = max(len(e.ids) for e in encodings)
    arrays = {name: np.zeros((len(encodings), width), dtype=np.int64) for name in INPUTS}
    for row, e in enumerate(encodings):
        n = len(e.ids)
        arrays["input_ids"][row, :n] = e.ids
        arrays["attention_mask"][row, :n] = e.attention_mask
        arrays["token_type_ids"][row, :n] = e.type_ids
    return arrays


def thread_nice() -> int:
    """The scheduling priority of the calling thread (Linux gives each thread its own)."""
    try:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    except (AttributeError, OSError):
        return 0


def new_session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Spinning threads wait for work by burning CPU: on a shared 2-core machine they took 3x longer.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run_session(session: Any, arrays: dict[str, Any]) -> Any:
    """The session's output for the inputs it takes (a fused graph may drop an unused one)."""
    names = {i.name for i in session.get_inputs()}
    return session.run(None, {k: v for k, v in arrays.items() if k in names})[0]
