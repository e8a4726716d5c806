"""Text measured with a model's own tokenizer, whichever library it comes from: tiktoken (OpenAI's
models), `tokenizers` (a tokenizer.json, read without transformers) or a transformers tokenizer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def count_tokens(tokenizer: Any, texts: Sequence[str]) -> list[int]:
    """The number of tokens of each text, special tokens not included."""
    if _is_tiktoken(tokenizer):
        return [len(ids) for ids in tokenizer.encode_batch(list(texts), disallowed_special=())]
    if _is_fast_tokenizer(tokenizer):
        return [len(e.ids) for e in tokenizer.encode_batch(list(texts), add_special_tokens=False)]
    encoded = tokenizer(list(texts), add_special_tokens=False)["input_ids"]
    return [len(ids) for ids in encoded]


def split_tokens(tokenizer: Any, text: str, size: int) -> list[tuple[int, int]]:
    """Character spans of consecutive windows of `size` tokens (for over-long sentences)."""
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
