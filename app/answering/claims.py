"""Claim check: is each sentence of an answer supported by the passage it cites?

`ClaimChecker.check(answer_text, citations)` splits the answer into sentences (claims_text.py) and
scores each sentence that states a fact against the passages it cites (claims_terms.py):

* hard evidence: every number in digits and every code-like term (\\commands, --options, file
  names, key=value, identifiers, quoted symbols) of the sentence must occur in a cited passage, and
  a negation must not contradict it (claims_negation.py); a miss makes the sentence unsupported, and
  the reason names it. Names (ALLCAPS, MixedCase, capitalised words inside the sentence, option
  values, Latin words of a Japanese sentence), rare English words and numbers written in words
  that the passage lacks make it unsupported or weak, per language (`Cutoffs`).
* soft evidence: the share of the sentence's terms found in the passage (stems, Japanese
  kanji/katakana pairs, as the sparse index compares them) blended with the embedding similarity of
  sentence and passage; below one cut-off the sentence is unsupported, below a second weak.
  Cut-offs are per language, chosen on the tune split of tests/data/claims (bench/claims.py); the
  measured figures are in docs/retrieval-quality.md, "Claim checks".

A sentence without a citation that states a fact is weak when a passage of the answer supports it,
unsupported otherwise. Greetings, headings, questions and "the documents do not say" are no claims
and are left out. An optional judge (claims_judge.py, a language model) replaces the scoring.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from app.answering import claims_negation
from app.answering.claims_terms import PassageText, claim_body, claim_terms, is_small
from app.answering.claims_text import Sentence, is_japanese, split_sentences
from app.domain import Claim, Support

__all__ = ["CitedPassage", "Claim", "ClaimChecker", "Cutoffs", "Support", "Thresholds"]

EmbedFn = Callable[[Sequence[str]], Sequence[Sequence[float]]]


class Cited(Protocol):
    """A citation as the answer service makes it (app.answering.service.Citation fits)."""

    @property
    def number(self) -> int: ...

    @property
    def passage(self) -> str: ...


@dataclass(frozen=True)
class CitedPassage:
    number: int
    passage: str
    file: str = ""  # the document's name: an answer may name the document the passage does not repeat
    section: str = ""  # its heading path, for the same reason
    vector: Sequence[float] | None = None  # its stored vector from the index, if known
    surroundings: str = ""  # the chunks just before and after it in the document, if known


class Judge(Protocol):
    """Decides claims instead of the scoring: one verdict per (sentence, cited numbers), in order, or
    None when it cannot (then the scoring decides)."""

    def __call__(
        self, claims: Sequence[tuple[str, list[int]]], passages: Mapping[int, str]
    ) -> list[tuple[Support, str]] | None: ...


Policy = Literal["unsupported", "weak", "ignore"]


@dataclass(frozen=True)
class Cutoffs:
    """One language's thresholds. score = coverage_weight * coverage + (1 - coverage_weight) *
    similarity; and what a name, a rare English word or a number written in words that the passage
    lacks makes the claim (a number in digits or a code term it lacks makes it unsupported)."""

    coverage_weight: float
    unsupported_below: float
    weak_below: float
    names: Policy = "weak"
    rare: Policy = "weak"
    number_words: Policy = "weak"


_U: Policy = "unsupported"


@dataclass(frozen=True)
class Thresholds:
    # Chosen by `bench/claims.py --tune` on the tune split (2026-12-06, 338 sentences with batch 4);
    # the weak band of 0.04 is a choice for the UI (it changes no "unsupported" figure).
    en: Cutoffs = Cutoffs(0.6, unsupported_below=0.46, weak_below=0.50, names=_U, rare=_U, number_words=_U)
    ja: Cutoffs = Cutoffs(0.5, unsupported_below=0.40, weak_below=0.44, names=_U, rare=_U, number_words=_U)

    def for_text(self, text: str) -> Cutoffs:
        return self.ja if is_japanese(text) else self.en


@dataclass
class Evidence:
    """What the passages cited by one claim show; `verdict` turns it into support and a reason."""

    numbers: list[int]  # the cited passages checked
    missing_numbers: list[str] = field(default_factory=list)
    missing_codes: list[str] = field(default_factory=list)
    missing_names: list[str] = field(default_factory=list)
    nearby: list[str] = field(default_factory=list)  # names and rare words missing, but in the text around
    missing_words: list[str] = field(default_factory=list)
    missing_rare: list[str] = field(default_factory=list)
    negation: str | None = None
    coverage: float = 0.0
    similarity: float = 0.0
    about: str = ""  # what the best cited passage is about, for the reason


class ClaimChecker:
    """Checks the sentences of an answer against the passages they cite.

    `embed` maps texts to vectors (the app's embedding model: `EmbeddingModel.embed_documents`);
    the cut-offs assume the local all-MiniLM-L6-v2, and without an embedding (tests) only the hard
    evidence is reliable. `judge` (off by default) decides instead of the scoring.
    """

    def __init__(
        self,
        embed: EmbedFn | None = None,
        judge: Judge | None = None,
        thresholds: Thresholds | None = None,
        stored_vectors: bool = False,
    ):
        self._embed = embed
        self._judge = judge
        self.thresholds = thresholds or Thresholds()
        # Use a citation's `vector` (the passage's vector from the index) instead of embedding the
        # passage: only when `embed` is the model the index was built with.
        self._stored_vectors = stored_vectors

    def check(self, answer_text: str, citations: Sequence[Cited]) -> list[Claim]:
        passages = {c.number: c.passage or getattr(c, "text", "") for c in citations}
        context = {c.number: f"{getattr(c, 'file', '')} {getattr(c, 'section', '')}" for c in citations}
        claims = [(s, body) for s in split_sentences(answer_text) if (body := claim_body(s)) is not None]
        if not claims:
            return []
        if self._judge is not None:
            verdicts = self._judge([(body, list(s.citations)) for s, body in claims], passages)
            if verdicts is not None and len(verdicts) == len(claims):
                return [
                    Claim(text=s.text, citations=list(s.citations), support=support, reason=reason)
                    for (s, _), (support, reason) in zip(claims, verdicts, strict=True)
                ]
        texts = {n: PassageText(p, context[n]) for n, p in passages.items()}
        around = {c.number: PassageText(text) for c in citations if (text := getattr(c, "surroundings", ""))}
        stored = {c.number: v for c in citations if (v := getattr(c, "vector", None))} if self._stored_vectors else {}
        similarity = self._similarities([body for _, body in claims], passages, stored)
        return [
            self._decide(sentence, body, texts, {n: similarity(i, n) for n in texts}, around)
            for i, (sentence, body) in enumerate(claims)
        ]

    def _decide(
        self,
        sentence: Sentence,
        body: str,
        texts: Mapping[int, PassageText],
        similarity: Mapping[int, float],
        around: Mapping[int, PassageText],
    ) -> Claim:
        cutoffs = self.thresholds.for_text(body)
        cited = [n for n in sentence.citations if n in texts]
        if sentence.citations and not cited:
            support: Support = "unsupported"
            reason = f"cites {_markers(list(sentence.citations))}, which is not among the passages"
        elif cited:
            support, reason = self.verdict(assess(body, cited, texts, similarity, around), cutoffs)
        else:
            support, reason = self._uncited(body, texts, similarity, cutoffs)
        return Claim(text=sentence.text, citations=list(sentence.citations), support=support, reason=reason)

    def _uncited(
        self, body: str, texts: Mapping[int, PassageText], similarity: Mapping[int, float], cutoffs: Cutoffs
    ) -> tuple[Support, str]:
        for n in sorted(texts, key=lambda n: -similarity.get(n, 0.0)):
            if self.verdict(assess(body, [n], texts, similarity), cutoffs)[0] == "supported":
                return "weak", f"no citation; passage [{n}] supports it"
        return "unsupported", "no citation for a factual sentence"

    def verdict(self, e: Evidence, cutoffs: Cutoffs) -> tuple[Support, str]:
        where = _passages(e.numbers)
        t = cutoffs
        digits = [n for n in e.missing_numbers if any(c.isdigit() for c in n)]
        if digits:
            return "unsupported", f"number {digits[0]} not in {where}"
        if e.missing_codes:
            return "unsupported", f"{e.missing_codes[0]} not in {where}"
        # "two lines", "twice", "both": small numbers in words are as often a way of speaking as a count
        absent = [(w, "weak" if is_small(w) else t.number_words) for w in e.missing_numbers if w not in digits]
        # A name or option word that is not in the passage but in the text right around it is weak, not
        # a contradiction: the answer took it from there (“fix-code が真の場合…” of a chunk that says
        # “※真である場合…” after the one naming fix-code). A name the passage and its surroundings lack is.
        absent += [(w, "weak" if w in e.nearby else t.names) for w in e.missing_names]
        absent += [(w, "weak" if w in e.nearby else t.rare) for w in e.missing_rare]
        for word, policy in absent:
            if policy == "unsupported":
                return "unsupported", f"“{word}” not in {where}"
        if e.negation is not None:
            return "unsupported", f"{where} says the opposite about “{e.negation}”"
        score = cutoffs.coverage_weight * e.coverage + (1 - cutoffs.coverage_weight) * e.similarity
        if score < cutoffs.unsupported_below:
            return "unsupported", f"cites {_markers(e.numbers)}, which is about “{e.about}”"
        partly = [w for w, policy in absent if policy == "weak"]
        if score < cutoffs.weak_below or partly:
            missing = ", ".join(f"“{w}”" for w in (partly or e.missing_words)[:3])
            nearby = " (only in the text around it)" if partly and all(w in e.nearby for w in partly) else ""
            return "weak", f"only partly supported by {where}" + (f": {missing} not found{nearby}" if missing else "")
        return "supported", f"supported by {where}"

    def _similarities(
        self, bodies: list[str], passages: Mapping[int, str], stored: Mapping[int, Sequence[float]]
    ) -> Callable[[int, int], float]:
        """Cosine similarity of sentence i and passage n; a passage with a `stored` vector is not
        embedded again (the index embedded it with its section path: docs/retrieval-quality.md)."""
        if self._embed is None:
            return lambda _i, _n: 0.0
        # Two calls: in one batch the short sentences would be padded to the passages' length.
        claim_vectors = [_unit(v) for v in self._embed(bodies)]
        numbers = [n for n in passages if n not in stored]
        found = self._embed([passages[n] for n in numbers]) if numbers else []
        passage_vectors = {n: _unit(v) for n, v in zip(numbers, found, strict=True)}
        passage_vectors.update({n: _unit(v) for n, v in stored.items() if n in passages})
        return lambda i, n: sum(a * b for a, b in zip(claim_vectors[i], passage_vectors[n], strict=True))


def assess(
    body: str,
    cited: list[int],
    texts: Mapping[int, PassageText],
    similarity: Mapping[int, float],
    around: Mapping[int, PassageText] | None = None,
) -> Evidence:
    """The evidence for one claim in the passages `cited` (numbers of `texts`); `around`: the text
    around each passage, where one is known."""
    passages = [texts[n] for n in cited]
    terms = claim_terms(body)
    e = Evidence(numbers=cited)
    e.missing_numbers = [raw for raw, value in terms.numbers if not any(p.has_number(value) for p in passages)]
    e.missing_codes = [c for c in terms.codes if not any(p.has_code(c) for p in passages)]
    e.missing_names = [n for n in terms.names if not any(p.has_name(n) for p in passages)]
    tokens = set().union(*(p.tokens for p in passages))
    e.missing_words = [w for w in terms.words if w not in tokens]
    e.missing_rare = [w for w, stem in terms.rare if stem not in tokens and not any(p.has_name(w) for p in passages)]
    nearby = [around[n] for n in cited if around and n in around]
    e.nearby = [w for w in [*e.missing_names, *e.missing_rare] if any(p.has_name(w) for p in nearby)]
    # the share of the claim's terms found: content words, and the numbers, code terms and names
    specific = len(terms.numbers) + len(terms.codes) + len(terms.names)
    missing = len(e.missing_words) + len(e.missing_numbers) + len(e.missing_codes) + len(e.missing_names)
    total = len(terms.words) + specific
    e.coverage = 1 - missing / total if total else 1.0
    e.similarity = max((similarity.get(n, 0.0) for n in cited), default=0.0)
    e.negation = claims_negation.conflict(body, [c for p in passages for c in p.clauses])
    e.about = _about(max(passages, key=lambda p: similarity.get(cited[passages.index(p)], 0.0)))
    return e


def _about(passage: PassageText, limit: int = 70) -> str:
    for sentence in passage.sentences:
        words = sentence.split()
        if len(words) >= 4 or (is_japanese(sentence) and len(sentence) >= 12):
            text = sentence if len(sentence) <= limit else sentence[:limit].rsplit(" ", 1)[0] + "…"
            return text
    return passage.text[:limit]


def _unit(vector: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def _markers(numbers: list[int]) -> str:
    return "".join(f"[{n}]" for n in numbers)


def _passages(numbers: list[int]) -> str:
    return ("passage " if len(numbers) == 1 else "passages ") + ", ".join(f"[{n}]" for n in numbers)
