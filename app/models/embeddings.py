"""Embedding models behind one small interface, built on LlamaIndex embedding classes.

Besides vectors, the chunker needs the model's own token counting and its input limit, so the
adapter exposes both. The factory below picks the provider: a local model (app/models/local_embedding.py)
or an OpenAI-compatible service.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from app import metrics
from app.config import EmbeddingSettings
from app.config_sections import PACKAGED_MODEL
from app.errors import ConfigError, ServiceUnavailable
from app.models import tokenizer
from app.models.batching import Coalescer
from app.models.loading import Lazy, short_reason
from app.models.local_embedding import LocalEmbedding
from app.models.tokens import cl100k
from app.text_forms import match_form

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding

    from app.models.onnx_export import Precision

OPENAI_MAX_INPUT_TOKENS = 8191


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
    def tokenizer(self) -> Any:
        """The model's own tokenizer (a `tokenizers.Tokenizer` for a local model), for indexing
        that needs its token ids (e.g. the [UNK] runs)."""
        return self._tokenizer

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
        much as real ones). The model reads the texts' `match_form` (full-width forms folded), the
        form the index was always built from (pages used to be stored folded)."""
        order = list(range(len(texts)))
        if self.local and token_counts is not None:
            order.sort(key=lambda i: token_counts[i])
        try:
            ordered = [match_form(texts[i]) for i in order]
            if self.embed.num_workers and self.embed.num_workers > 1:
                computed = asyncio.run(self.embed.aget_text_embedding_batch(ordered))
            else:
                computed = self.embed.get_text_embedding_batch(ordered)
        except Exception as e:
            raise ServiceUnavailable(f"the embedding model failed: {short_reason(e)}") from e
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
            # The question as typed: folding it too (？ -> ?) was measured worse on the evaluation's
            # Japanese questions (docs/retrieval-quality.md); the sparse terms fold it.
            vector = self._query_batches.run(text) if self.local else self.embed.get_query_embedding(text)
        except Exception as e:
            raise ServiceUnavailable(f"the embedding model failed: {short_reason(e)}") from e
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
        return tokenizer.count_tokens(self._tokenizer, [match_form(t) for t in texts])

    def split_tokens(self, text: str, size: int) -> list[tuple[int, int]]:
        """Character spans of consecutive windows of `size` tokens (for over-long sentences)."""
        return tokenizer.split_tokens(self._tokenizer, text, size)


def build_embedding_model(settings: EmbeddingSettings, auto_precision: Precision = "int8") -> EmbeddingModel:
    """The configured model. `auto_precision`: what a local model on `backend: auto` runs at when
    ONNX Runtime can run it (int8 for a new index; the container passes an existing index's own)."""
    if settings.provider == "local":
        return _build_local(settings, auto_precision)
    return _build_openai(settings)


def _build_local(settings: EmbeddingSettings, auto_precision: Precision) -> EmbeddingModel:
    local = LocalEmbedding(settings, auto_precision)

    def load() -> BaseEmbedding:
        embed, model.backend = local.load()  # backend auto may fall back to torch
        return embed

    model = EmbeddingModel(
        Lazy(load),
        settings.model,
        Lazy(local.max_tokens),
        local.tokenizer,
        settings.batch_size,
        local.dim,
        backend=local.backend,
        prepare=local.prepare if local.onnx else None,
    )
    return model


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
