"""BM25-style sparse vectors that work offline for English and Japanese.

English words are lower-cased and Porter-stemmed; runs of Japanese characters become character
bigrams (no dictionary, no download, robust to unknown technical terms). Documents carry the BM25
term-frequency part; Qdrant multiplies in the IDF (`Modifier.IDF`) from the collection at query time.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

from app.documents.text_clean import CJK

K1 = 1.2
B = 0.75
AVG_TOKENS = 150.0  # typical chunk length in sparse tokens; only shapes length normalisation

_TOKEN = re.compile(rf"[{CJK}]+|[a-z0-9]+(?:[_'][a-z0-9]+)*")
_CJK_RUN = re.compile(rf"[{CJK}]")

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having
    he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
    nor not now of off on once only or other our ours ourselves out over own same she should so some such than
    that the their theirs them themselves then there these they this those through to too under until up very
    was we were what when where which while who whom why will with would you your yours yourself yourselves
    tell explain show please want know use using used way ways""".split()
)


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    from nltk.stem.porter import PorterStemmer

    return PorterStemmer()


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return str(_stemmer().stem(word))


def tokenize(text: str) -> list[str]:
    """Terms for sparse matching: stemmed English words, Japanese character bigrams."""
    text = unicodedata.normalize("NFKC", text).lower()
    terms: list[str] = []
    for match in _TOKEN.finditer(text):
        token = match.group()
        if _CJK_RUN.match(token):
            if len(token) == 1:
                terms.append(token)
            else:
                terms.extend(token[i : i + 2] for i in range(len(token) - 1))
        elif token not in STOPWORDS and (len(token) > 1 or token.isdigit()):
            terms.append(_stem(token))
    return terms


def term_id(term: str) -> int:
    return zlib.crc32(term.encode("utf-8"))


def _vector(counts: Counter[str], length: int, query: bool) -> tuple[list[int], list[float]]:
    merged: dict[int, float] = {}
    for term, tf in counts.items():
        if query:
            weight = 1.0
        else:
            weight = tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / AVG_TOKENS))
        key = term_id(term)
        merged[key] = merged.get(key, 0.0) + weight
    indices = sorted(merged)
    return indices, [merged[i] for i in indices]


def encode_documents(texts: Sequence[str]) -> tuple[list[list[int]], list[list[float]]]:
    """Sparse document vectors in the (indices, values) form llama-index's Qdrant store expects."""
    indices, values = [], []
    for text in texts:
        terms = tokenize(text)
        i, v = _vector(Counter(terms), len(terms), query=False)
        indices.append(i)
        values.append(v)
    return indices, values


def encode_queries(texts: Sequence[str]) -> tuple[list[list[int]], list[list[float]]]:
    indices, values = [], []
    for text in texts:
        i, v = _vector(Counter(tokenize(text)), 0, query=True)
        indices.append(i)
        values.append(v)
    return indices, values


def term_coverage(query: str, passage: str) -> float:
    """Share of the query's distinct terms that occur in the passage (0..1)."""
    wanted = set(tokenize(query))
    if not wanted:
        return 0.0
    return len(wanted & set(tokenize(passage))) / len(wanted)
