"""Scanned pages: which pages need their text recognised, and recognising them (OCR).

Runs where the PDF is read (the reader's limited child process). A page is recognised when its
text layer is unusable: mostly glyph garbage (private-use, replacement, unassigned or control
characters: fonts without a character map), or too few characters for the ink on the page (a
scan; text drawn as outlines). Pages with plenty of text never cost a render. The recognised text
replaces the page's own, and its words keep their boxes (fractions of the page) so that a cited
passage can be highlighted where it is printed. The engine (app/documents/ocr.py) is opened on the
first page that needs it: a PDF with a text layer never loads a model.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from app.documents.text_clean import clean_page_text
from app.text_forms import match_char

if TYPE_CHECKING:
    from app.documents.ocr import OcrEngine, OcrPage

OcrMode = Literal["auto", "off", "force"]
Word = tuple[str, float, float, float, float]  # text, x0, y0, x1, y1 as fractions of the page (origin top-left)
Box = tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions of the page

OCR_DPI = 200  # the render that is recognised: what the engines were measured on
INK_SCALE = 0.5  # the ink is measured on a 36 dpi render (a few milliseconds)
INK_LEVEL = 160  # a grey darker than this is ink
MIN_INK = 0.2  # percent of the page: less is a blank page, a rule or a speck
# A page of text has 450-900 usable characters per percent of ink (every page of tests/data; a title
# page in large type 127): fewer than CHARS_PER_INK per percent means the text is not in the layer.
CHARS_PER_INK = 50
ENOUGH_CHARS = 200  # a page with this many usable characters keeps its text layer (garbage aside)
MAX_GARBAGE = 0.3  # share of garbage among a page's visible characters that makes its layer unusable
MAX_WORDS = 5000  # words kept per page (their boxes highlight citations)
MAX_WORD = 64  # characters kept of one word
_GARBAGE = frozenset(("Co", "Cn", "Cs", "Cc"))
ANCHOR = 40  # characters matched at each end of a passage (as for a text layer: render_pool.py)


@dataclass(frozen=True)
class OcrOptions:
    """What the reader recognises: `mode` auto (pages without a usable text layer), force (every
    page) or off; the engine and its languages; the time one page may take (the isolated reader
    enforces it)."""

    mode: OcrMode = "off"
    engine: str = "rapidocr"
    languages: tuple[str, ...] = ("eng", "jpn")
    page_timeout_s: float = 120.0


def usable_chars(text: str) -> int:
    """Letters and digits that are real characters (not private-use or unassigned code points)."""
    return sum(1 for ch in text if ch.isalnum() and unicodedata.category(ch) not in _GARBAGE)


def garbage_share(text: str) -> float:
    """Share of the visible characters that are glyph garbage: private-use, unassigned, surrogate,
    control (PDFium's line-break markers aside) or the replacement character."""
    visible = [ch for ch in text if not ch.isspace()]
    if not visible:
        return 0.0
    bad = sum(1 for ch in visible if ch == "\ufffd" or unicodedata.category(ch) in _GARBAGE)
    return bad / len(visible)


def needs_recognition(text: str, ink: Callable[[], float]) -> bool:
    """True if a page's text layer is unusable: mostly garbage, or few characters for its ink
    (`ink()`: percent of the page that is ink, measured only when the text is short)."""
    if garbage_share(text) > MAX_GARBAGE:
        return True
    chars = usable_chars(text)
    if chars >= ENOUGH_CHARS:
        return False
    share = ink()
    return share >= MIN_INK and chars < CHARS_PER_INK * share


def page_words(page: OcrPage) -> tuple[Word, ...]:
    """The recognised words with their boxes, bounded in number and length."""
    return tuple(
        (w.text[:MAX_WORD], *(round(v, 4) for v in w.box))  # type: ignore[misc]
        for w in page.words[:MAX_WORDS]
        if w.text.strip()
    )


@dataclass(frozen=True)
class Recognition:
    """A page's recognised text and words, or (`note`) why a page that needed it has none."""

    text: str = ""
    words: tuple[Word, ...] = ()
    note: str = ""


class PageRecogniser:
    """Recognises the pages of one PDF that need it. Renders with its own PDFium handle (whatever
    parser read the text), opens the engine on first use, and remembers an engine that cannot run
    (the other pages are then noted, not retried)."""

    def __init__(self, path: Path, options: OcrOptions) -> None:
        self._path = path
        self._options = options
        self._pdf: Any = None
        self._engine: OcrEngine | None = None
        self._unavailable: str | None = None

    def read(self, text: str, index: int, announce: Callable[[], None]) -> Recognition | None:
        """The recognised text of the page at `index` (whose text layer gave `text`) when it needs
        it (`announce()` first: recognition takes seconds); None when it keeps its text layer; a
        `note` when it needs recognising but cannot have it."""
        mode = self._options.mode
        if mode == "off" or (mode == "auto" and not needs_recognition(text, lambda: self.ink(index))):
            return None
        from app.documents.ocr import OcrUnavailable, open_engine

        if self._engine is None and not self._unavailable:
            try:  # before the page is announced: loading the models is not the page's time
                self._engine = open_engine(self._options.engine, self._options.languages)
            except OcrUnavailable as e:
                self._unavailable = f"OCR is unavailable ({e})"
        if self._engine is None:
            return Recognition(note=f"its text could not be recognised: {self._unavailable}")
        announce()
        try:
            result = self._recognise(self._engine, index)
        except MemoryError:
            return Recognition(note="recognising its text needed more memory than allowed")
        except Exception as e:  # one page the engine fails on must not cost the others
            return Recognition(note=f"recognising its text failed ({type(e).__name__})")
        recognised = clean_page_text(result.text)
        if mode == "auto" and garbage_share(text) <= MAX_GARBAGE and usable_chars(recognised) <= usable_chars(text):
            return None  # a figure with a caption: its own text layer reads as well
        return Recognition(text=recognised, words=page_words(result))

    def _document(self) -> Any:
        if self._pdf is None:
            import pypdfium2 as pdfium

            self._pdf = pdfium.PdfDocument(str(self._path))
        return self._pdf

    def ink(self, index: int) -> float:
        """Percent of the page that is ink, on a small greyscale render."""
        import numpy as np

        page = self._document()[index]
        try:
            image = page.render(scale=INK_SCALE, grayscale=True).to_pil().convert("L")
        finally:
            page.close()
        return float((np.asarray(image) < INK_LEVEL).mean() * 100)

    def _recognise(self, engine: OcrEngine, index: int) -> OcrPage:
        page = self._document()[index]
        try:
            image = page.render(scale=OCR_DPI / 72).to_pil()
        finally:
            page.close()
        return engine.recognise(image)

    def close(self) -> None:
        close = getattr(self._engine, "close", None)
        if close is not None:
            close()
        self._engine = None
        if self._pdf is not None:
            self._pdf.close()
            self._pdf = None


def ocr_state(options: OcrOptions) -> str | None:
    """None when recognition can run as configured (or is off), else why not (cheap: no model is
    loaded). Said once at start, and in the admin console."""
    if options.mode == "off":
        return None
    from app.documents.ocr import check_engine

    return check_engine(options.engine, options.languages)


def text_key(text: str) -> tuple[str, list[int]]:
    """Text reduced to what survives cleaning differences (spacing, hyphens, case, width, the
    forms `match_form` folds), with the index of each kept character in the original."""
    kept, index = [], []
    for i, ch in enumerate(text):
        for c in match_char(ch).lower():
            if c.isalnum():
                kept.append(c)
                index.append(i)
    return "".join(kept), index


def passage_boxes(words: Sequence[Word], passage: str) -> list[Box]:
    """Boxes (page fractions) covering a passage of a recognised page, one per line of its words;
    [] when the passage is not found among them. The passage is a chunk of the page's recognised
    text, so its words are found in order, its two ends matched like a text layer's."""
    owner: list[int] = []  # the word each character of the page's key comes from
    keys = []
    for i, word in enumerate(words):
        key = text_key(word[0])[0]
        keys.append(key)
        owner.extend([i] * len(key))
    page_key = "".join(keys)
    wanted = text_key(passage)[0]
    if len(wanted) < 8:
        return []
    start = page_key.find(wanted[:ANCHOR])
    if start < 0:
        return []
    end = page_key.find(wanted[-ANCHOR:], start)
    end = end + min(ANCHOR, len(wanted)) if end >= 0 else min(len(page_key), start + len(wanted))
    lines: list[Box] = []
    for word in words[owner[start] : owner[end - 1] + 1]:
        box = word[1:]
        if lines and _same_line(lines[-1], box):
            last = lines[-1]
            lines[-1] = (min(last[0], box[0]), min(last[1], box[1]), max(last[2], box[2]), max(last[3], box[3]))
        else:
            lines.append(box)
    return lines


def _same_line(line: Box, box: Box) -> bool:
    """The word continues the line: it follows it to the right and shares most of its height."""
    overlap = min(line[3], box[3]) - max(line[1], box[1])
    return box[0] >= line[0] and overlap > 0.5 * min(line[3] - line[1], box[3] - box[1])
