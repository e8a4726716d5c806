"""The local model's ONNX export (app/models/onnx_export.py) as a LlamaIndex embedding."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from app.models.onnx_export import batch_inputs, load_tokenizer, new_session, run_session, thread_nice

# Padded tokens per model call (texts of 200 tokens: 10 at a time). On 2 cores, batches of 8-16 such
# texts ran as fast per token as 32, so smaller batches cost nothing and pad less.
BATCH_TOKENS = 2048
# What one model call costs besides its tokens, in tokens: 6 ms against 0.127 ms per padded token in
# the one-off fit it was chosen from (all-MiniLM-L6-v2, fp32, 2 threads, batches of 1-32 rows of
# 50-200 tokens). The fit is loose: bench/model_batches.py, the same fit kept, gave 0.5 ms (4 tokens).
RUN_OVERHEAD_TOKENS = 48
# Texts LlamaIndex hands to one `_get_text_embeddings` call (its embed_batch_size): tokenised and
# batched together. Batches inside are at most `max_rows` texts (embeddings.batch_size).
TEXTS_PER_CALL = 256


def cut_batches(lengths: Sequence[int], max_rows: int, max_tokens: int = BATCH_TOKENS) -> list[range]:
    """Ascending `lengths` (tokens per text) cut into consecutive batches of at most `max_rows`
    texts and `max_tokens` padded tokens (a longer text goes alone), at the least cost: each batch
    computes rows x its longest text, plus RUN_OVERHEAD_TOKENS per call. Filling each batch to the
    limit (the obvious way) pads a short text up to a long one whenever they meet at a batch's end:
    for the calls ingesting the manuals of tests/data, 3.9 % of the real tokens against 1.3 % here."""
    n = len(lengths)
    best = [0] * (n + 1)  # best[j]: least cost of the first j texts
    start = [0] * (n + 1)  # start[j]: where the last batch of that best cut begins
    for j in range(1, n + 1):
        longest = lengths[j - 1]
        best[j], start[j] = best[j - 1] + RUN_OVERHEAD_TOKENS + longest, j - 1  # text j alone
        for i in range(j - 2, -1, -1):  # or with the texts before it
            rows = j - i
            if rows > max_rows or rows * longest > max_tokens:
                break
            cost = best[i] + RUN_OVERHEAD_TOKENS + rows * longest
            if cost < best[j]:
                best[j], start[j] = cost, i
    batches: list[range] = []
    j = n
    while j > 0:
        batches.append(range(start[j], j))
        j = start[j]
    return batches[::-1]


class OnnxEmbedding(BaseEmbedding):
    """LlamaIndex embedding over an ONNX Runtime session. Texts are tokenised together, sorted by
    token count and batched, so a batch pads to similar lengths (padding is computed for nothing).

    One session per scheduling priority of the calling thread: ONNX Runtime's worker threads are
    made with the session and keep the priority of the thread that made it, so background
    ingestion (server.ingest_nice) gets its own session whose threads yield to the questions'."""

    _path: Path = PrivateAttr()
    _threads: int = PrivateAttr()
    _sessions: dict[int, Any] = PrivateAttr()
    _sessions_lock: threading.Lock = PrivateAttr()
    _tokenizer: Any = PrivateAttr()
    _max_rows: int = PrivateAttr()
    _query_prefix: str = PrivateAttr()
    _text_prefix: str = PrivateAttr()
    _queries_alone: bool = PrivateAttr()

    def __init__(
        self,
        onnx_file: Path,
        model_dir: Path,
        max_length: int,
        max_rows: int = 32,
        threads: int | None = None,
        query_prefix: str = "",
        text_prefix: str = "",
        session: tuple[Any, int] | None = None,
        queries_alone: bool = False,
        **kwargs: Any,
    ) -> None:
        """`session`: one already made for this file (EmbeddingModel.prepare) and the priority of the
        thread that made it; otherwise one is made here. `queries_alone`: each question in a model
        call of its own (int8: see embed_queries)."""
        super().__init__(model_name=str(model_dir), embed_batch_size=TEXTS_PER_CALL, **kwargs)
        self._max_rows = max_rows
        self._path = onnx_file
        self._threads = threads or os.cpu_count() or 1
        first, nice = session or (new_session(onnx_file, self._threads), thread_nice())  # a broken file fails here
        self._sessions = {nice: first}
        self._sessions_lock = threading.Lock()
        self._tokenizer = load_tokenizer(model_dir)
        self._tokenizer.enable_truncation(max_length)
        self._query_prefix = query_prefix
        self._text_prefix = text_prefix
        self._queries_alone = queries_alone

    @classmethod
    def class_name(cls) -> str:
        return "OnnxEmbedding"

    def session(self) -> Any:
        nice = thread_nice()
        with self._sessions_lock:
            if nice not in self._sessions:
                self._sessions[nice] = new_session(self._path, self._threads)
            return self._sessions[nice]

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        session = self.session()
        encodings = self._tokenizer.encode_batch(list(texts))
        lengths = [len(e.ids) for e in encodings]
        order = sorted(range(len(texts)), key=lengths.__getitem__)
        out: list[Any] = [None] * len(texts)
        for rows in cut_batches([lengths[i] for i in order], self._max_rows):
            batch = [order[r] for r in rows]
            vectors = run_session(session, batch_inputs([encodings[i] for i in batch]))
            for row, i in enumerate(batch):
                out[i] = vectors[row].tolist()
        return out

    def embed_queries(self, queries: Sequence[str]) -> list[list[float]]:
        """Several questions in one call (app/models/batching.py coalesces simultaneous ones).

        The int8 export quantises activations with one scale per model run (dynamic quantisation),
        so a question's vector would depend on the questions batched with it (cosine to its vector
        alone down to 0.994 on 26 questions): there each question runs alone, and gets the same
        vector whoever asks at the same moment. Short texts: a run each costs little."""
        texts = [self._query_prefix + q for q in queries]
        if self._queries_alone:
            return [self.embed([t])[0] for t in texts]
        return self.embed(texts)

    def _get_query_embedding(self, query: str) -> list[float]:
        return self.embed_queries([query])[0]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self.embed([self._text_prefix + text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self.embed([self._text_prefix + t for t in texts])
