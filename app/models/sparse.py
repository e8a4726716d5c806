"""BM25-style sparse vectors that work offline for English and Japanese.

English words are lower-cased, stop-worded and Porter-stemmed; identifiers written in camel case
(`FullScreen`, `TextField`) also give their parts, so "full screen" or "text field" find them.
Japanese has no spaces, so text is cut into runs of one script: kanji runs give every character
and every pair of neighbours (unigrams catch one-kanji words such as 書 or 表, bigrams most
two-kanji words), katakana runs give character pairs (ignoring a loanword's spelling variants),
and hiragana runs, which are mostly particles and inflections, give nothing. No dictionary, no
download, robust to unknown technical terms; measured against plain character bigrams and against
Sudachi words in README.md ("Retrieval quality", bench/retrieval_alternatives.py).

Documents carry the BM25 term-frequency part; Qdrant multiplies in the IDF (`Modifier.IDF`) from
the collection at query time.
"""

from __future__ import annotations

import re
import threading
import zlib
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from app.text_forms import match_form

# Bump when tokenisation changes: stored sparse vectors stop matching queries (the index fingerprint
# includes it, so the app asks for a reindex).
TOKENIZER_VERSION = 3
K1 = 1.2
B = 0.75
AVG_TOKENS = 150.0  # typical chunk length in sparse tokens; only shapes length normalisation

_HIRAGANA = "\u3040-\u309f"
_KATAKANA = "\u30a0-\u30fa\u30fc-\u30ff\uff66-\uff9f"  # without the middle dot U+30FB
_KANJI = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3005"  # U+3005 is the repetition mark 々
_TOKEN = re.compile(
    rf"(?P<kanji>[{_KANJI}]+)|(?P<katakana>[{_KATAKANA}]+)|(?P<hiragana>[{_HIRAGANA}]+)"
    r"|[A-Za-z0-9]+(?:[_'][A-Za-z0-9]+)*"
)
_CAMEL_PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_CJK_CHAR = re.compile(rf"[{_KANJI}{_KATAKANA}{_HIRAGANA}]")

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having
    he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
    nor not now of off on once only or other our ours ourselves out over own same she should so some such than
    that the their theirs them themselves then there these they this those through to too under until up very
    was we were what when where which while who whom why will with would you your yours yourself yourselves
    tell explain show please want know use using used way ways""".split()  # noqa: SIM905
)


_IMPORT_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    """nltk's Porter stemmer (NLTK_EXTENSIONS mode), loaded without running nltk/__init__.py: that
    imports scipy.stats and every corpus reader (1.2 s of CPU, paid by each CLI ingest while the
    model wants both cores), where the stemmer's own module and its three helpers take 0.03 s. The
    stand-in packages are removed again, so a later `import nltk` gets the real package."""
    try:
        return _porter_module_alone().PorterStemmer()
    except Exception:  # another layout of nltk: the ordinary import
        from nltk.stem.porter import PorterStemmer

        return PorterStemmer()


def _porter_module_alone() -> Any:
    import importlib
    import importlib.util
    import sys
    import types

    if "nltk" in sys.modules:  # already imported for real: nothing to save
        return importlib.import_module("nltk.stem.porter")
    spec = importlib.util.find_spec("nltk")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("nltk")
    root = next(iter(spec.submodule_search_locations))
    with _IMPORT_LOCK:
        for name, path in (("nltk", root), ("nltk.stem", f"{root}/stem")):
            package = types.ModuleType(name)
            package.__path__ = [path]
            sys.modules[name] = package
        try:
            return importlib.import_module("nltk.stem.porter")
        finally:
            for name in [n for n in sys.modules if n == "nltk" or n.startswith("nltk.")]:
                del sys.modules[name]


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return str(_stemmer().stem(word))


def _pairs(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


def tokenize(text: str) -> list[str]:
    """Terms for sparse matching: stemmed English words, Japanese kanji/katakana n-grams."""
    text = match_form(text)
    terms: list[str] = []
    for match in _TOKEN.finditer(text):
        token = match.group()
        if match.lastgroup == "hiragana":  # particles and inflections
            continue
        if match.lastgroup == "kanji":
            terms.extend(token)
            terms.extend(_pairs(token))
        elif match.lastgroup == "katakana":
            terms.extend(_pairs(token) if len(token) > 1 else [token])
        else:
            _add_word(token.lower().removesuffix("'s"), terms)
            parts = _CAMEL_PART.findall(token) if not token.islower() and not token.isupper() else []
            if len(parts) > 1:
                for part in parts:
                    if len(part) >= 3:  # LaTeX, MiKTeX: two-letter pieces are not words
                        _add_word(part.lower(), terms)
    return terms


def _add_word(word: str, terms: list[str]) -> None:
    if word not in STOPWORDS and (len(word) > 1 or word.isdigit()):
        terms.append(_stem(word))


def is_cjk(text: str) -> bool:
    """True when a question is mostly Japanese (more kana/kanji than Latin letters).

    Decides which fusion weight applies: a question with a few Latin option names inside
    Japanese prose is still a Japanese question."""
    cjk = len(_CJK_CHAR.findall(text))
    latin = sum(ch.isascii() and ch.isalpha() for ch in text)
    return cjk > latin


def term_id(term: str) -> int:
    return zlib.crc32(term.encode("utf-8"))


def _vector(counts: Counter[str], length: int, query: bool) -> tuple[list[int], list[float]]:
    merged: dict[int, float] = {}
    for term, tf in counts.items():
        weight = 1.0 if query else tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / AVG_TOKENS))
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
