"""Optical character recognition of page images: the contract the reader uses, and the two engines.

`open_engine("tesseract" | "rapidocr", ("eng", "jpn"))` gives an engine whose `recognise(image)`
turns a rendered page into an `OcrPage`: its text in reading order, the words with their boxes as
fractions of the image given (so a passage can be highlighted on the page as it is shown), and the
quarter turn that was undone. Each engine runs the same steps: scale a very large image down,
find the page's orientation and undo it, straighten a small skew, notice text set in columns
(vertical Japanese), read, and map the boxes back. Japanese comes out without spaces between
characters. Languages are Tesseract's codes ("eng", "jpn"); rapidocr maps them to its models.

`check_engine` is cheap (no model is loaded): use it at start-up to say once what is missing.
Engines hold native state: use one per process (or per thread, never shared), `close()` when done.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from PIL import Image

from app.documents import ocr_rapid, ocr_tesseract
from app.documents.ocr_image import (
    Line,
    PageGeometry,
    bounded,
    estimate_skew,
    is_vertical,
    straighten,
    turn_upright,
)
from app.errors import AppError

ENGINES = ("rapidocr", "tesseract")
DEFAULT_ENGINE = "tesseract"
MAX_MEGAPIXELS = 12.0  # an A4 page at 300 dpi is 8.7 megapixels; larger scans are scaled down to this
MIN_SKEW = 0.3  # degrees; straightening less than this blurs more than it helps


class OcrUnavailable(AppError):
    """The engine cannot run here (package, binary or language data missing); the message says what."""


@dataclass(frozen=True)
class OcrWord:
    text: str
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions of the page image (0..1, origin top-left)


@dataclass(frozen=True)
class OcrPage:
    text: str  # the page's text in reading order (lines joined with "\n"; Japanese without spaces between characters)
    words: list[OcrWord]  # words (or Japanese character runs) with their boxes, in reading order
    angle: int  # 0, 90, 180 or 270: the page was turned clockwise by this much in the image; undone before reading
    seconds: float


class OcrEngine(Protocol):
    name: str  # "rapidocr" | "tesseract"

    def recognise(self, image: Image.Image) -> OcrPage: ...


class _Reader(Protocol):
    reads_vertical: bool

    def orientation(self, image: Image.Image) -> int: ...

    def read(self, image: Image.Image, vertical: bool = False) -> list[Line]: ...

    def close(self) -> None: ...


class _Engine:
    """The steps every engine shares around its reader."""

    def __init__(self, name: str, reader: _Reader, max_megapixels: float) -> None:
        self.name = name
        self._reader = reader
        self._max_megapixels = max_megapixels

    def recognise(self, image: Image.Image) -> OcrPage:
        started = time.perf_counter()
        page = bounded(image, self._max_megapixels)
        angle = self._reader.orientation(page)
        upright = turn_upright(page, angle)
        skew = estimate_skew(upright)
        if abs(skew) < MIN_SKEW:
            skew = 0.0
        straight = straighten(upright, skew) if skew else upright
        vertical = self._reader.reads_vertical and is_vertical(straight)
        lines = self._reader.read(straight, vertical=vertical)
        geometry = PageGeometry(size=page.size, angle=angle, skew=skew)
        text, words = _assemble(lines, geometry)
        return OcrPage(text=text, words=words, angle=angle, seconds=round(time.perf_counter() - started, 3))

    def close(self) -> None:
        self._reader.close()


def _assemble(lines: list[Line], geometry: PageGeometry) -> tuple[str, list[OcrWord]]:
    texts: list[str] = []
    words: list[OcrWord] = []
    for line in lines:
        joined = line.joined()
        if not joined:
            continue
        if line.starts_paragraph and texts:
            texts.append("")
        texts.append(joined)
        words.extend(OcrWord(w.text, geometry.to_fractions(w.box)) for w in line.words)
    return "\n".join(texts), words


def _languages(languages: Sequence[str]) -> list[str]:
    cleaned = [lang.strip() for lang in languages if lang.strip()]
    if not cleaned:
        raise OcrUnavailable("no OCR language given (e.g. eng, jpn)")
    return list(dict.fromkeys(cleaned))


def check_engine(name: str, languages: Sequence[str]) -> str | None:
    """None if `open_engine(name, languages)` would work, else why not (what to install). Loads no model."""
    try:
        langs = _languages(languages)
    except OcrUnavailable as e:
        return str(e)
    if name == "tesseract":
        return ocr_tesseract.missing(langs)
    if name == "rapidocr":
        return ocr_rapid.missing(langs)
    return f"unknown OCR engine {name!r} (one of: {', '.join(ENGINES)})"


def open_engine(
    name: str, languages: Sequence[str], *, max_megapixels: float = MAX_MEGAPIXELS, threads: int | None = None
) -> OcrEngine:
    """An engine ready to recognise pages; raises OcrUnavailable naming what is missing. `threads`
    caps rapidocr's ONNX Runtime threads (tesseract always uses one)."""
    reason = check_engine(name, languages)
    if reason:
        raise OcrUnavailable(reason)
    langs = _languages(languages)
    reader: _Reader
    try:
        reader = ocr_tesseract.TesseractReader(langs) if name == "tesseract" else ocr_rapid.RapidReader(threads)
    except (RuntimeError, OSError, ValueError) as e:
        raise OcrUnavailable(f"the {name} OCR engine failed to start: {e}") from e
    return _Engine(name, reader, max_megapixels)
