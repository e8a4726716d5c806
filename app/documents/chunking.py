"""Sentence-aware chunking measured in the embedding model's own tokens.

LlamaIndex's SentenceSplitter counts tiktoken tokens and finds Japanese sentence ends only in its
fallback regex; the embedding model silently truncates at its own limit (256 word-pieces for
all-MiniLM-L6-v2), so a chunk measured in another tokenizer can lose its tail. This splitter
counts with the model's tokenizer, ends chunks at sentence boundaries in English and Japanese,
never crosses a page, and records each chunk's exact character span in the page text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.documents.text_clean import CJK_FOLDED

# A sentence ends after 。！？｡!?, after a "." (or "．", "…": the page keeps the forms NFKC folds)
# followed by whitespace or a Japanese character, or at a blank line / line break before a list item.
_SENTENCE_END = re.compile(
    rf"(?<=[。！？｡!?])\s*|(?<=[.．…‥])(?=\s|[{CJK_FOLDED}])\s*|\n\s*\n\s*|\n(?=\s*(?:[-•*·]|\d+[.)．）]) )"
)

TokenCounter = Callable[[Sequence[str]], list[int]]
TokenSplitter = Callable[[str, int], list[tuple[int, int]]]


@dataclass(frozen=True)
class Chunk:
    text: str
    start: int  # character span in the page text
    end: int
    tokens: int


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of sentences; together they cover the text without gaps."""
    spans = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if end > start and text[start : match.start()].strip():
            spans.append((start, end))
            start = end
    if start < len(text) and text[start:].strip():
        spans.append((start, len(text)))
    return spans


class Chunker:
    """Packs sentences into chunks of at most `chunk_size` tokens with about `overlap` tokens shared."""

    def __init__(self, count_tokens: TokenCounter, split_tokens: TokenSplitter, chunk_size: int, overlap: int) -> None:
        self._count = count_tokens
        self._split = split_tokens
        self.chunk_size = chunk_size
        self.overlap = overlap

    def split(self, text: str) -> list[Chunk]:
        pieces = self._pieces(text)
        chunks: list[Chunk] = []
        window: list[tuple[int, int, int]] = []  # (start, end, tokens)
        size = 0
        for piece in pieces:
            if window and size + piece[2] > self.chunk_size:
                chunks.append(self._make(text, window))
                window, size = self._overlap_tail(window)
                if size + piece[2] > self.chunk_size:
                    window, size = [], 0
            window.append(piece)
            size += piece[2]
        if window:
            chunks.append(self._make(text, window))
        return chunks

    def _pieces(self, text: str) -> list[tuple[int, int, int]]:
        """Sentences with token counts; a sentence over the limit is cut at token boundaries (each
        part counted again: the last one is usually short, and packs with what follows)."""
        spans = split_sentences(text)
        counts = self._count([text[s:e] for s, e in spans])
        pieces = []
        for (start, end), n in zip(spans, counts, strict=True):
            if n <= self.chunk_size:
                pieces.append((start, end, n))
                continue
            parts = [(start + s, start + e) for s, e in self._split(text[start:end], self.chunk_size)]
            for (s, e), m in zip(parts, self._count([text[s:e] for s, e in parts]), strict=True):
                pieces.append((s, e, min(m, self.chunk_size)))
        return pieces

    def _overlap_tail(self, window: list[tuple[int, int, int]]) -> tuple[list[tuple[int, int, int]], int]:
        tail: list[tuple[int, int, int]] = []
        size = 0
        for piece in reversed(window[1:]):  # never carry the whole window over
            if size + piece[2] > self.overlap:
                break
            tail.insert(0, piece)
            size += piece[2]
        return tail, size

    @staticmethod
    def _make(text: str, window: list[tuple[int, int, int]]) -> Chunk:
        start, end = window[0][0], window[-1][1]
        raw = text[start:end]
        stripped = raw.rstrip()
        return Chunk(text=stripped, start=start, end=start + len(stripped), tokens=sum(p[2] for p in window))
