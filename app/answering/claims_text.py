"""The claim check's sentences: an answer cut into sentences (English and Japanese), each with the
[n] markers it carries, and the normalisation both claims and passages get (NFKC for full-width
forms, the PDF text's logo and dash variants)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from app.text_forms import match_form

# PDF text writes the XeTeX logo with U+018E; answers write "XeLaTeX".
_FOLD = str.maketrans({"Ǝ": "E", "ǝ": "e", "\u0002": "", "−": "-", "–": "-", "—": "-", "’": "'", "‘": "'"})
CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3005"
_CJK = re.compile(f"[{CJK_CHARS}]")


def normalize(text: str) -> str:
    """`match_form` (NFKC: full-width forms; PDFs' radicals and look-alikes), the logo and dash folds,
    and one space for any run of blanks."""
    text = match_form(text).translate(_FOLD)
    text = re.sub(rf"(?<=[{CJK_CHARS}])\s*\n\s*(?=[{CJK_CHARS}])", "", text)  # a Japanese line wrap
    return re.sub(r"\s+", " ", text).strip()


# British spellings, as American ones, for comparing words (not for what is shown): an answer writes
# "colour" of a passage's "color". Both sides are folded, so a fold of a word that has no variant
# ("precise" as "precize") changes nothing.
_OUR = re.compile(r"\b(colo|favo|behavio|neighbo|harbo|hono|labo|rumo|flavo|armo|humo|vapo|endeavo)ur", re.IGNORECASE)
_ISE = re.compile(r"(?<=[a-z]{3})is(e|es|ed|ing|ation|ations|er|ers)\b")
_WORDS = {
    "centre": "center",
    "centres": "centers",
    "grey": "gray",
    "licence": "license",
    "catalogue": "catalog",
    "programme": "program",
    "programmes": "programs",
    "analyse": "analyze",
    "analysed": "analyzed",
}
_LONG_VOWEL = re.compile(r"(?<=[\u30a1-\u30fa])ー")
_WORD = re.compile(r"\b(?:" + "|".join(_WORDS) + r")\b", re.IGNORECASE)


def fold_spelling(text: str) -> str:
    """`text` with British spellings written the American way (colour, initialise, centre) and
    katakana without the long-vowel mark (パラメーター and パラメタ, ドライバー and ドライバ, as JIS
    Z 8301 and common usage differ), for comparing words."""
    text = _WORD.sub(lambda m: _WORDS[m.group().lower()], text)
    text = _LONG_VOWEL.sub("", text)
    return _ISE.sub(lambda m: "iz" + m.group(1), _OUR.sub(r"\1r", text))


def is_japanese(text: str) -> bool:
    return bool(_CJK.search(text))


# ---------------------------------------------------------------- sentences

# [1], [2, 3], [1-3], full-width forms too
CITE = re.compile(r"[\[［]([0-9０-９]{1,2}(?:\s*[,，、\-–~]\s*[0-9０-９]{1,2})*)[\]］]")
_JA_END = re.compile(r"[。！？｡]|．(?!\d)")  # the page keeps full-width ． (not ０．９９), models repeat it
_EN_END = re.compile(r"(?<!\.)[.!?](?=[\"'”’)]*(?:\s|$|[\[［]))")
_AFTER_END = re.compile(r"[\"'”’)」』）]*(?:\s*[\[［][0-9０-９]{1,2}(?:\s*[,，、\-–~]\s*[0-9０-９]{1,2})*[\]］])*")
_BULLET = re.compile(r"^\s*(?:[-*•·・]|\d{1,2}[.)]|[(（]\d{1,2}[)）])\s+")
_HEADING = re.compile(r"^\s*#{1,6}\s+")
_ABBREVIATIONS = frozenset(
    """e.g i.e etc vs cf al fig figs no nos p pp sec ch chap approx incl resp vol vols ed eds jr sr mr mrs ms dr
    prof inc ltd co st dept eq eqs ref refs ibid viz ca op""".split()  # noqa: SIM905
)


@dataclass(frozen=True)
class Sentence:
    """One sentence of an answer: `text` as written (with its [n] markers), `body` without them."""

    text: str
    start: int
    end: int
    citations: tuple[int, ...]
    body: str
    kind: str = "text"  # text | bullet | heading


def cited_numbers(marker_groups: list[str]) -> tuple[int, ...]:
    numbers: list[int] = []
    for group in marker_groups:
        group = unicodedata.normalize("NFKC", group)
        for part in re.split(r"\s*[,、]\s*", group):
            low, _, high = re.sub(r"[–~]", "-", part).partition("-")
            if high and low.isdigit() and high.isdigit() and int(high) - int(low) < 20:
                numbers.extend(range(int(low), int(high) + 1))
            elif low.isdigit():
                numbers.append(int(low))
    return tuple(dict.fromkeys(numbers))


def split_sentences(answer: str) -> list[Sentence]:
    """Sentences in order. Lines are split first (list items, headings), then at 。！？ and at . ! ?
    followed by a space, except after an abbreviation or an initial; [n] markers after the full stop
    stay with the sentence before them."""
    sentences: list[Sentence] = []
    offset = 0
    for line in answer.split("\n"):
        start = offset
        offset += len(line) + 1
        kind = "heading" if _HEADING.match(line) else "bullet" if _BULLET.match(line) else "text"
        prefix = (_HEADING.match(line) or _BULLET.match(line) or re.match(r"\s*", line)).end()  # type: ignore[union-attr]
        for s, e in line_spans(line, prefix):
            text = line[s:e].strip()
            if not text:
                continue
            lead = len(line[s:e]) - len(line[s:e].lstrip())
            markers = _markers(text)
            unmarked = "".join(
                text[a:b]
                for a, b in zip(
                    [0, *(m.end() for m in markers)], [*(m.start() for m in markers), len(text)], strict=True
                )
            )
            # "text [1]." -> "text.", but ";&" and ";;" of a shell answer are words, not punctuation
            body = re.sub(r"\s+(?=[.,;:!?](?:\s|$)|[。、])", "", normalize(re.sub(r"\*\*|__|`", "", unmarked)))
            sentences.append(
                Sentence(
                    text=text,
                    start=start + s + lead,
                    end=start + s + lead + len(text),
                    citations=cited_numbers([m.group(1) for m in markers]),
                    body=body,
                    kind=kind,
                )
            )
    return sentences


_QUOTE_SPAN = re.compile(r"“[^”]*”|「[^」]*」")
# an index, not a marker: NAME[0], BASH_ARGV[1]: a bracket right after a code-like word (capitals,
# or with _), when it is [0] or another marker follows later in the sentence
_INDEXED = re.compile(r"\b(?:[A-Z][A-Z0-9]+|\w*_\w*)$")


def _markers(text: str) -> list[re.Match[str]]:
    """The [n] markers of a sentence, except those inside quotation marks (text the answer quotes:
    “(author?) [21]”) and array indices (NAME[0])."""
    quoted = [m.span() for m in _QUOTE_SPAN.finditer(text)]
    found = [m for m in CITE.finditer(text) if not any(a < m.start() < b for a, b in quoted)]

    def index(i: int, m: re.Match[str]) -> bool:
        if not _INDEXED.search(text, 0, m.start()):
            return False
        later = [n for n in found[i + 1 :] if n.start() > m.end()]
        return m.group(1) == "0" or "_" in text[: m.start()].rsplit(" ", 1)[-1] or bool(later)

    return [m for i, m in enumerate(found) if not index(i, m)]


def line_spans(line: str, begin: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = begin
    for match in re.finditer(rf"{_JA_END.pattern}|{_EN_END.pattern}", line):
        end = match.end()
        if end <= start or (match.group() in ".!?" and not _ends_sentence(line, match.start())):
            continue
        end = _AFTER_END.match(line, end).end()  # type: ignore[union-attr]
        if match.group() in ".!?" and _CJK.search(line):
            continue  # "Sep.", "Ph.D." inside a Japanese sentence: Japanese ends sentences with 。
        if match.group() in ".!?" and _inside_brackets(line[start : match.start()]):
            continue  # a question or a stop quoted inside a sentence: prints “(author?) [21]”
        if line[start:end].strip():
            spans.append((start, end))
        start = end
    if line[start:].strip():
        spans.append((start, len(line)))
    return spans


def _inside_brackets(text: str) -> bool:
    """Whether `text` leaves a parenthesis or a curly quotation mark open."""
    return text.count("(") > text.count(")") or text.count("“") > text.count("”")


def _ends_sentence(line: str, dot: int) -> bool:
    """False for the dot of an abbreviation (e.g., et al., p.), of an initial (Patrick W. Daly), or a
    quoted symbol ('.', '..')."""
    before = line[dot - 1 : dot]
    if before in "'\"‘“`" and (dot < 2 or line[dot - 2].isspace() or line[dot - 2] in "'\"‘“`."):
        return False
    if line[dot] != ".":
        return True
    word = re.search(r"([A-Za-z][A-Za-z.]*)$", line[:dot])
    if word is None:
        return True
    token = word.group(1)
    if token.lower().rstrip(".") in _ABBREVIATIONS or "." in token.strip("."):  # e.g., Ph.D.
        return False
    return not (len(token) == 1 and token.isupper())
