"""What a claim says: whether an answer sentence states a fact at all, and the terms it must find in
the passage it cites (numbers, code-like terms, names, rare words, content words); and the passage
side, indexed once per answer.

No model is used here. Words are compared as the sparse index compares them (app/models/sparse.py:
NFKC, Porter stems, Japanese kanji and katakana pairs), so "loaded" finds "load" and "Ｌａｔｅｘ" finds
"LATEX". Negations are claims_negation.py.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

from loguru import logger

from app.answering.claims_negation import clauses
from app.answering.claims_text import CJK_CHARS, Sentence, fold_spelling, is_japanese, line_spans, normalize
from app.models.sparse import STOPWORDS, tokenize
from app.models.tokens import cl100k

# ---------------------------------------------------------------- which sentences are claims

_NOT_FOUND = re.compile(
    r"\b(?:documents?|sources?|passages?|context|texts?|manual|excerpts?)\b[^.]{0,40}?"
    r"\b(?:do(?:es)?\s+not|don't|doesn't|not|never)\b[^.]{0,20}?"
    r"\b(?:contain|say|mention|specify|state|provide|include|cover|describe|address|discuss|answer|explain)",
    re.IGNORECASE,
)
_NOT_FOUND_JA = re.compile(
    r"見つかりません|見当たりません|(?:記載|記述|説明|情報)(?:は|が)?(?:ありません|ない|されていません)"
    r"|書かれていません|含まれていません|(?:分|わ)かりません"
)
_META = re.compile(
    r"^(?:hi|hello|sure|certainly|of course|great question|thanks|thank you|i hope this helps|hope this helps"
    r"|let me know|feel free|here (?:is|are)|here's|in summary|to summari[sz]e|in short)\b",
    re.IGNORECASE,
)
_META_JA = re.compile(r"^(?:はい|以下に|以下の(?:とおり|通り)|まとめると|要約すると|ご参考|お役に立て)")
_LEAD_IN = re.compile(
    r"^(?:according to (?:the )?(?:documents?|sources?|passages?|manual)|based on (?:the )?(?:provided )?"
    r"(?:documents?|sources?|passages?|manual))\s*[,:]\s*",
    re.IGNORECASE,
)


def claim_body(sentence: Sentence) -> str | None:
    """The text to check, or None when the sentence states no fact: a heading, a question, a greeting,
    a sentence saying the documents do not answer, or one with no content word."""
    body = _LEAD_IN.sub("", sentence.body).strip()
    if not body or sentence.kind == "heading" or body.endswith(("?", "？")):
        return None
    if body.endswith((":", "：")) or _NOT_FOUND.search(body) or _NOT_FOUND_JA.search(body):
        return None
    words = len(body.split())
    if (_META.match(body) or _META_JA.match(body)) and (words <= 8 or not sentence.citations):
        return None
    if sentence.kind == "text" and not re.search(r"[.!。！]$", body) and words <= 6 and not is_japanese(body):
        return None  # a line without a full stop: a heading or a label
    if not content_tokens(body) and not numbers_in(body):
        return None
    return body


# ---------------------------------------------------------------- terms of a claim

_CODE = re.compile(
    r"""\\[A-Za-z@]+\*?                                  # \citet, \citet*
    | (?<![\w-])--?[A-Za-z][\w-]*                        # -o, --posix
    | ~?[\w.-]*/[\w./~-]+ | ~/[\w./-]+                   # paths
    | [\w-]+(?:\.[\w-]+)*\.[a-z]{2,4}\b                  # file names: natbib.cfg, plainnat.bst
    | [\w-]+=[\w.{}\\-]*                                 # key=value
    | \b[A-Za-z]\w*_\w+\b                                # identifiers with _
    | \b[A-Za-z]+\d+[A-Za-z\d]*\b                       # jon90, utf8
    | \S*[<>|&]\S*                                      # shell operators: 2>&1, |&
    """,
    re.VERBOSE,
)
_QUOTED = re.compile(r"'([^'\s]{1,20})'|\"([^\"\s]{1,20})\"|`([^`\s]{1,20})`|‘([^’\s]{1,20})’|“([^”\s]{1,20})”")
_SYMBOLIC = re.compile(r"[\w|&<>*#.~$\\/=+;-]")  # what a quoted code term is made of
_NAME = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*\b")
_NUMBER = re.compile(r"(?<![A-Za-z_\\\d.])-?\d+(?:,\d{3})*(?:\.\d+)*(?![\d])")
_ONE_TO_TWENTY = """zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen
    sixteen seventeen eighteen nineteen twenty"""
_NUMBER_WORDS = {w: i for i, w in enumerate(_ONE_TO_TWENTY.split())} | {
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "hundred": 100,
    "thousand": 1000,
    "twice": 2,
    "once": 1,
}
_KANJI_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10, "両": 2}
_KANJI_NUMBER = re.compile(r"([一二三四五六七八九十両])(?=つ|回|個|度|種類|文字|桁|倍|番目|巻|人|行|通り|点)")
_CJK_RUN = re.compile(rf"[{CJK_CHARS}]")


@dataclass
class Terms:
    numbers: list[tuple[str, str]] = field(default_factory=list)  # (as written, canonical)
    codes: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)  # sparse terms: stems, Japanese pairs
    rare: list[tuple[str, str]] = field(default_factory=list)  # (word, stem): English words few texts use


def _canonical(raw: str) -> str:
    """12 == 12.0 == 1,2 thousands; a sign is ignored (answers drop it, PDFs print U+2212)."""
    raw = raw.replace(",", "").lstrip("-+")
    if raw.count(".") <= 1:
        try:
            return format(Decimal(raw).normalize(), "f")
        except InvalidOperation:
            pass
    return raw


def numbers_in(text: str, claim: bool = True) -> list[tuple[str, str]]:
    """Numbers as (written, canonical): digits, English number words ("one" only in passages: in a
    claim it is mostly a pronoun), Japanese kanji numerals before a counter (二回; 一 only in
    passages, as "one")."""
    found = [(m.group(), _canonical(m.group())) for m in _NUMBER.finditer(text)]
    for word in re.findall(r"\b[a-z]+\b", text.lower()):
        if word in _NUMBER_WORDS and not (claim and word == "one"):
            found.append((word, str(_NUMBER_WORDS[word])))
    for kanji in _KANJI_NUMBER.findall(text):
        if not (claim and kanji == "一"):  # 一度, 一つの: "once", "one of", as "one" in English
            found.append((kanji, str(_KANJI_DIGITS[kanji])))
    return found


def is_small(word: str) -> bool:
    """A number word for two or less (two, twice, once, 二): in a paraphrase as often a way of
    speaking ("split over two lines") as a count the passage gives."""
    value = _NUMBER_WORDS.get(word.lower(), _KANJI_DIGITS.get(word))
    return value is not None and value <= 2


# A placeholder in angle brackets (dvi=<ドライバ名>, \theH<counter>) names a value, not a term to
# find: PDFs set in TeX fonts print its brackets as other letters ("hドライバ名i").
_PLACEHOLDER = re.compile(r"<[^<>\s|&]{1,30}>")


def code_terms(text: str) -> list[str]:
    text = _PLACEHOLDER.sub(" ", text)
    terms = [m.group().strip(".,;:()[]{}") for m in _CODE.finditer(text)]
    quoted = ("".join(groups) for groups in _QUOTED.findall(text))
    terms += [q for q in quoted if (not q.isalpha() or len(q) <= 2) and _SYMBOLIC.search(q)]
    return list(dict.fromkeys(t for t in terms if t and not _NUMBER.fullmatch(t)))


# Values an option takes: a claim that changes one says something else, however close its words.
# Colours and units only: true/false, left/right, top/bottom are as often plain English ("right
# after", "left unchanged", "it is true that").
_VALUE_WORDS = frozenset(
    """red green blue cyan magenta yellow black white gray grey orange purple pt bp mm cm em ex zw zh sp
    dd""".split()  # noqa: SIM905
)


def name_terms(text: str, codes: list[str]) -> list[str]:
    """Words that must be found as they are: ALLCAPS, MixedCase (LaTeX, ToUnicode), capitalised words
    inside a sentence (Chet Ramey, Acrobat), values (colours, true/false, units), and every Latin
    word of a Japanese sentence."""
    japanese = is_japanese(text)
    inside = " ".join(codes)
    names = []
    for i, match in enumerate(_NAME.finditer(text)):
        word = match.group()
        if word in inside or word.isdigit() or len(word) < 2:
            continue
        upper = sum(c.isupper() for c in word)
        mixed = upper and (upper > 1 or not word[0].isupper()) and not word.isupper()
        capitalised = word[0].isupper() and i > 0 and text[: match.start()].rstrip()[-1:] not in (".", "!", "?")
        if japanese or word.isupper() or mixed or capitalised or word in _VALUE_WORDS:
            names.append(word)
    return list(dict.fromkeys(names))


def content_tokens(text: str) -> list[str]:
    """The claim's sparse terms without digits; Japanese as kanji/katakana pairs (a single kanji only
    where it stands alone), which say more than the single characters the index also keeps."""
    tokens = [t for t in tokenize(fold_spelling(text)) if not t.isdigit()]
    pairs = {t for t in tokens if len(t) == 2 and _CJK_RUN.match(t)}
    in_pairs = {c for p in pairs for c in p}
    return list(dict.fromkeys(t for t in tokens if not (len(t) == 1 and _CJK_RUN.match(t) and t in in_pairs)))


# An English word list (Debian's wamerican, installed by `make system-deps` and the image): a word
# in it is English, however the GPT tokenizer cuts it ("wreaking", "typeset").
WORD_LISTS = (Path("/usr/share/dict/words"), Path("/usr/share/dict/american-english"))


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    for path in WORD_LISTS:
        with contextlib.suppress(OSError):
            text = path.read_text(encoding="utf-8", errors="replace")
            return frozenset(w.casefold() for w in text.split() if "'" not in w)
    logger.warning(
        "no English word list at {}: the claim check takes every word split by the tokenizer for a name", WORD_LISTS[0]
    )
    return frozenset()


@lru_cache(maxsize=65536)
def is_rare(word: str) -> bool:
    """A word the GPT tokenizer does not know whole and no English word list has (sectionbib,
    nolinks, extglob): option and package names, which a paraphrase keeps, rather than English."""
    if len(cl100k().encode(" " + word.lower(), disallowed_special=())) <= 1:
        return False
    words = english_words()
    return word.casefold() not in words and fold_spelling(word.casefold()) not in words  # "capitalise"


def rare_words(text: str, names: list[str]) -> list[tuple[str, str]]:
    if is_japanese(text):
        return []  # a Japanese sentence's Latin words are names already
    rare = []
    for word in re.findall(r"(?<![\\\w-])[a-z]{3,}(?![\w-])", text):
        if word not in STOPWORDS and word not in names and is_rare(word):
            stems = tokenize(fold_spelling(word))
            if stems:
                rare.append((word, stems[0]))
    return list(dict.fromkeys(rare))


def claim_terms(body: str) -> Terms:
    codes = code_terms(body)
    stripped = body
    for code in codes:
        stripped = stripped.replace(code, " ")
    names = name_terms(stripped, codes)
    return Terms(
        numbers=numbers_in(stripped),
        codes=codes,
        names=names,
        words=content_tokens(stripped),
        rare=rare_words(stripped, names),
    )


# ---------------------------------------------------------------- a passage, indexed once


class PassageText:
    """A cited passage, normalised, with what claims look up in it."""

    def __init__(self, text: str, context: str = "") -> None:
        self.text = normalize(text)
        # the document's name and section heading count for names and code terms, not for words
        self.folded = self.text.casefold()
        self.context = normalize(context).casefold()
        # "semi-colon" also as "semicolon", "non-interactive" as "noninteractive"
        folded = fold_spelling(self.text)
        self.tokens = set(tokenize(folded)) | set(tokenize(re.sub(r"(?<=[a-z])-(?=[a-z])", "", folded)))
        # leniently: digits after letters count too (v6.75a, jbase=11Q, UTF8)
        self.numbers = {canonical for _raw, canonical in numbers_in(self.text, claim=False)} | {
            _canonical(m) for m in re.findall(r"\d+(?:\.\d+)?", self.text)
        }
        self.sentences = [self.text[s:e].strip() for s, e in line_spans(self.text, 0)]
        self.clauses = clauses(self.text)

    def has_number(self, canonical: str) -> bool:
        return canonical in self.numbers

    def has_code(self, term: str) -> bool:
        if term.startswith("\\"):  # a TeX command: exact case, and not the start of a longer name
            return re.search(re.escape(term) + r"(?![A-Za-z@])", self.text) is not None
        if re.fullmatch(r"--?[A-Za-z][\w-]*", term):
            return re.search(rf"(?<![\w-]){re.escape(term)}(?![\w-])", self.text) is not None
        folded = term.casefold()
        if folded in self.folded or folded in self.context:
            return True
        # a quoted or hyphenated term may be cut differently by the PDF text (hyperref.cfg vs hyperref .cfg)
        parts = [p for p in re.split(r"[\s.=/-]+", folded) if p]
        return all(re.search(rf"(?<![a-z0-9]){re.escape(p)}(?![a-z0-9])", self.folded) for p in parts)

    def has_name(self, name: str) -> bool:
        folded = name.casefold()
        if folded in self.context:  # "Bash" and bashref.pdf
            return True
        if re.search(rf"(?<![a-z0-9]){re.escape(folded)}(?![a-z0-9])", self.folded):
            return True
        stems = tokenize(fold_spelling(name))
        return bool(stems) and all(s in self.tokens for s in stems)
