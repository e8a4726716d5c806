"""Negations: does a claim deny what its passage states, or state what the passage denies?

Both texts are cut into clauses (at punctuation, and before "but", "because", …). Each clause of the
claim is set against the passage clause that shares most content words with it (at least two); the
claim conflicts with the passage when the two clauses differ in polarity: an odd number of negations
in one and an even number in the other, so "removes the extra spacing" agrees with "there is no extra
line spacing" and "does not remove the extra spacing" does not. When several passage clauses share
as many words (a passage giving a rule and its exception), one of the same polarity is enough.

Negations: English not, no, never, n't, …, verbs that take their object away (remove, omit, strip,
delete, suppress), "keeps … from", "stops … doing", "without", "non-" ("neither … nor" once);
Japanese endings ない, ません, ず, … and the prefixes 不, 無, 非, 未. Contrasts ("instead of",
"rather than", より, ではなく) are not negations, and a clause with one is not set against the
passage at all ("書くより…省略形を使う" against "書かずに…省略形を使う"); nor are double negatives
(しなければならない) and "not only/just". A clause that is a condition (…場合, …なら, if, when, a
clause opening with "without": "without a driver option, hyperref tries …") names a case and is not
set against the passage, unless it is concessive (…ても, "even if"): then against conditions only.
Japanese words are compared as kanji pairs and whole katakana words.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

from app.answering.claims_text import fold_spelling
from app.models.sparse import STOPWORDS, tokenize

_EN_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_EN_CUES = frozenset("not no never cannot neither nor none nothing nobody nowhere".split())  # noqa: SIM905
_CUE_STEMS = frozenset(t for w in _EN_CUES for t in tokenize(w))
_EN_NEGATIVE_VERBS = frozenset(
    """remove removes removed removing omit omits omitted suppress suppresses strip strips stripped stripping
    delete deletes deleted deleting discard discards discarded discarding""".split()  # noqa: SIM905
)
_EN_KEEP_FROM = frozenset("keep keeps kept keeping prevent prevents prevented stop stops stopped".split())  # noqa: SIM905
_EN_STOP_DOING = frozenset("prevent prevents prevented stop stops stopped".split())  # noqa: SIM905  ("stops X doing")
_EN_NOT_LESS = frozenset({"regardless", "nevertheless", "nonetheless", "doubtless"})
_EN_NOT_NEGATING = frozenset({"only", "just", "merely", "simply", "necessarily"})  # "not only", "not just"
_EN_SKIP = STOPWORDS | frozenset("need needs needed always ever yet even also really longer much just".split())  # noqa: SIM905
_EN_CLAUSE = re.compile(
    r"[,;:()!?。、，；]|\.(?=\s|$)|\b(?:but|while|whereas|although|though|because|since|unless|so that)\b",
    re.IGNORECASE,
)

_JA_FALSE = re.compile(
    r"なければ(?:ならない|なりません|いけない|いけません)|なくては(?:ならない|なりません|いけない|いけません)"
    r"|ないと(?:いけない|いけません|ならない|なりません)|かもしれな[いく]|かもしれません|に違いない"
    r"|ではなく(?![、,])|じゃなく(?![、,])|構わな[いく]|構いません|かまわな[いく]|かまいません|少な|危な|間もな|まもな|ないし|必ず|まず|わずか|いずれ|はず|ずつ|かかわらず|関わらず"
)
_JA_CUE = re.compile(
    r"ない|なく|ません|(?<=[\u3040-\u309f])ず(?![れつかっ])|ぬ(?=[、。,.]|$)|無し|無い"
    r"|不要|不可|無効|非推奨|未定義|非対応|未対応"
)
_JA_PREFIXED = re.compile(r"不要|不可|無効|非推奨|未定義|非対応|未対応")
_JA_CLAUSE = re.compile(  # punctuation (not a decimal point), and after ても, ので: "…なくても、…しません"
    r"[、。，．;；:：!！?？()（）]|(?<!\d)[.,]|[.,](?!\d)|(?<=ても)|(?<=ので)|(?<=けれど)|(?<=けど)"
    r"|(?<=[な無]いと)(?![\u3040-\u309f])"  # "key フィールドがないと alpha スタイルは…": a condition
)
_CONTRAST = re.compile(r"\b(?:rather than|instead of|than)\b|より|代わりに|かわりに|ではなく(?=\S)", re.IGNORECASE)
# A Japanese clause that ends as a condition ("amstext を読み込まない場合", "使いたいなら",
# "指定しなくても") states nothing of its own: "if amstext is not loaded" is no denial of "load
# amstext". Only a concessive one is set against anything, and against conditions only ("指定しなくても"
# against "指定した場合は").
_JA_CONDITION = re.compile(
    r"(?:場合(?:は|には|にも|も|に)?|(?:時|とき)(?:は|には|にも|も)?|なら(?:ば)?|れば|たら|ても|でも|[な無]いと)$"
)
# The same in English: a clause that opens with "if", "when" ("When \the<counter> is not unique",
# "e.g. if it is not expandable") or "without" ("without a driver option").
_EN_CONDITION = re.compile(
    r"^(?:(?:and|or|but|so|e\.g\.|i\.e\.|even)\s+)*(?:if|when|whenever|once|in case|without)\b", re.IGNORECASE
)
# A concessive condition ("even if not given", "指定しなくても") states that something holds either
# way, and so can contradict a passage's condition; a plain one ("if no increment is given") only
# names a case, and a passage naming the other case ("when the increment is given") does not deny it.
_CONCESSIVE = re.compile(r"^(?:(?:and|or|but|so)\s+)*even\b|(?:ても|でも)$", re.IGNORECASE)
MIN_LIKENESS = 0.4  # a passage clause less like the claim clause is about something else
_JA_CONTENT = re.compile(r"[\u4e00-\u9fff\u3005]+|[\u30a0-\u30ff]+|[A-Za-z][\w\\-]*")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
_KATAKANA = re.compile(r"[\u30a1-\u30fa\u30fc]+")  # a katakana word (not the middle dot ・)


@dataclass(frozen=True)
class Clause:
    text: str
    words: frozenset[str]  # sparse terms
    negations: int
    heads: tuple[str, ...]  # the words the first negation denies (stems in English)
    contrast: bool  # "rather than", "instead of", より, 代わりに: a comparison, not a statement to set against
    condition: bool = False  # a condition (…場合, …なら, …ても, if, when): names a case
    concessive: bool = False  # "even if", …ても: the only conditions set against anything (conditions)


# What looks like a clause boundary and is not: punctuation quoted as itself (全角の “，” や “、”),
# an ellipsis (jafont=... の指定), a bracketed prefix of a word ((u)pLaTeX, (no)zw).
_QUOTED_MARK = re.compile(r"(?<=[“‘\"'「『])[,.、。，．;；:：]{1,3}(?=[”’\"'」』])")
_ELLIPSIS = re.compile(r"\.{2,}")
_WORD_PREFIX = re.compile(r"\((\w{1,6})\)(?=\w)")


def clauses(text: str) -> list[Clause]:
    japanese = bool(_JAPANESE.search(text))
    text = _WORD_PREFIX.sub(r"\1", _ELLIPSIS.sub("…", _QUOTED_MARK.sub("\u00b7", text)))
    parts = _JA_CLAUSE.split(_JA_FALSE.sub("・", text)) if japanese else _EN_CLAUSE.split(text)
    out = []
    for part in parts:
        if not part or not part.strip():
            continue
        negations, heads = _ja_negations(part) if japanese else _en_negations(part)
        words = _words(part)
        condition = bool(_JA_CONDITION.search(part.strip()) if japanese else _EN_CONDITION.match(part.strip()))
        concessive = condition and bool(_CONCESSIVE.search(part.strip()))
        out.append(Clause(part.strip(), words, negations, heads, bool(_CONTRAST.search(part)), condition, concessive))
    return out


def _words(text: str) -> frozenset[str]:
    """Sparse terms without digits and negation words; of Japanese, the kanji pairs (and lone kanji),
    not every character, which would make unrelated clauses look alike; and each katakana word whole:
    as overlapping pairs, one word (ドライバ: ドラ, ライ, イバ) counted three times and outweighed the
    words that tell two clauses apart ("DVI を出力するエンジンではドライバの指定が必須" was set against
    "PDF 出力のエンジンの場合はドライバの指定は不要" rather than "ドライバの指定が必須")."""
    tokens = {t for t in tokenize(fold_spelling(text)) if not t.isdigit() and not _KATAKANA.fullmatch(t)} - _CUE_STEMS
    in_pairs = {c for t in tokens if len(t) == 2 and not t.isascii() for c in t}
    katakana = {w for w in _KATAKANA.findall(fold_spelling(unicodedata.normalize("NFKC", text))) if len(w) >= 2}
    return frozenset(t for t in tokens if not (len(t) == 1 and t in in_pairs)) | katakana


def _en_negations(clause: str) -> tuple[int, tuple[str, ...]]:
    """The clause's negations and the word the first denies. A negation coordinated with another
    ("not unique or not expandable") counts once; a word in -less ("harmless") denies its stem."""
    words = [w.lower() for w in _EN_WORD.findall(clause)]
    count, heads = 0, tuple[str, ...]()
    for i, word in enumerate(words):
        following = words[i + 1] if i + 1 < len(words) else ""
        cue = (word in _EN_CUES and following not in _EN_NOT_NEGATING) or word.endswith("n't")
        cue = cue or word in _EN_NEGATIVE_VERBS
        # "without checking", "without hyperlinked citations" deny; a clause opening with "without"
        # ("without a driver option, hyperref tries …") is a condition
        cue = cue or word == "without"
        if word == "nor" and count:
            continue  # "neither trapped nor reset": one negation of two words
        if word.startswith("non-") and len(word) > 5:  # "non-empty" denies "empty"
            count += 1
            heads = heads or tuple(tokenize(fold_spelling(word[4:]))[:1])
            continue
        before = words[max(0, i - 4) : i]
        cue = cue or (word == "from" and any(w in _EN_KEEP_FROM for w in before))
        # "stops the functions doing anything" is "stops them from doing" ("keeps it running" is not)
        gerund = len(word) > 4 and word.endswith("ing") and "from" not in before
        cue = cue or (gerund and any(w in _EN_STOP_DOING for w in before))
        less = len(word) > 6 and word.endswith("less") and word not in _EN_NOT_LESS
        if less:
            count += 1
            heads = heads or tuple(tokenize(word[:-4])[:1])
        elif cue:
            if i > 0 and words[i - 1] in ("or", "and", "nor") and count:
                continue  # "not unique or not expandable": one negation of two words
            count += 1
            if not heads:
                content = [w for w in words[i + 1 : i + 6] if w not in _EN_SKIP and w not in _EN_CUES]
                heads = tuple(tokenize(fold_spelling(content[0]))[:1]) if content else ()
    return count, heads


def _ja_negations(clause: str) -> tuple[int, tuple[str, ...]]:
    cues = list(_JA_CUE.finditer(clause))
    if not cues:
        return 0, ()
    first = cues[0]
    if _JA_PREFIXED.fullmatch(first.group()):  # 不要: denies 要 (and what it is said of)
        before = _JA_CONTENT.findall(clause[: first.start()])[-1:]
        return len(cues), (first.group()[1:], *before)
    runs = _JA_CONTENT.findall(clause[: first.start()])
    # the word before the ending; with 行う ("変換を行わない") the word it is done to as well
    return len(cues), tuple(runs[-2:] if runs[-1:] == ["行"] else runs[-1:])


def _disagree(a: Clause, b: Clause) -> str | None:
    """The denied word when one clause denies, and the other affirms, a word both contain."""
    if a.negations % 2 == b.negations % 2:
        return None
    negative, other = (a, b) if a.negations % 2 else (b, a)
    for head in negative.heads:
        pairs = [t for t in tokenize(head) if len(t) == 2 or len(head) == 1] if not head.isascii() else []
        if any(t in other.words for t in (head, *pairs)):
            return head
        # a verb's kanji alone (使う, 省く) and the same kanji opening a pair (使用する, 省略)
        if len(head) == 1 and not head.isascii() and any(len(w) == 2 and w[0] == head for w in other.words):
            return head
    return None


def conflict(claim: str, passage_clauses: list[Clause]) -> str | None:
    """The word on which `claim` and the passage disagree, or None."""
    for c in clauses(claim):
        if len(c.words) < 2 or c.contrast or (c.condition and not c.concessive):
            continue
        # the passage clause most like the claim clause: shared words over the clauses' sizes, so that a
        # short clause saying the same thing wins over a long one that happens to share more words
        scored = [
            (shared / math.sqrt(len(c.words) * len(p.words)), p)
            for p in passage_clauses
            if p.condition == c.condition and (shared := len(c.words & p.words)) >= 2
        ]
        scored = [(score, p) for score, p in scored if score >= MIN_LIKENESS]
        if not scored:
            continue
        best = max(score for score, _ in scored)
        found = [_disagree(c, p) for score, p in scored if score >= best - 1e-9 and not p.contrast]
        if found and all(found):
            return found[0]
    return None
