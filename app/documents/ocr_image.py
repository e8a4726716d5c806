"""Page-image geometry shared by the OCR engines: bounding the work, quarter turns, small skew, text
direction, and mapping the recognisers' pixel boxes back to fractions of the image the caller gave.

The engines read an upright, straightened copy of the page; a citation is highlighted on the page
as it is shown, so every box is mapped back through the same turns in reverse.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from app.documents.text_clean import CJK

Box = tuple[float, float, float, float]  # x0, y0, x1, y1

_TURN = {
    90: Image.Transpose.ROTATE_90,  # PIL turns counter-clockwise
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_270,
}
# No space between two Japanese characters, nor between one and the punctuation that closes or opens
# beside it: Tesseract reads "違いと，各々" as the words "違いと" "," "各々".
_CJK_SPACE = re.compile(rf"(?<=[{CJK}]) +(?=[{CJK},.;:!?)\]])|(?<=[(\[]) +(?=[{CJK}])")
_PUNCT_SPACE = re.compile(rf"(?<=[{CJK}][,.;:!?]) +(?=[{CJK}])")  # run after _CJK_SPACE: "と , 各" -> "と,各"
_SPACES = re.compile(r"[ \t\u3000]+")


@dataclass(frozen=True)
class Word:
    """A recognised word (or a run of Japanese characters) with its box in work-image pixels."""

    text: str
    box: Box


@dataclass(frozen=True)
class Line:
    words: list[Word]
    starts_paragraph: bool = False
    text: str | None = None  # the line as the recogniser read it, if better than its words joined

    def joined(self) -> str:
        return join_words([self.text] if self.text is not None else [w.text for w in self.words])


def bounded(image: Image.Image, max_megapixels: float) -> Image.Image:
    """The page in 8-bit grey, scaled down (never up) to at most `max_megapixels`: a 600 dpi scan
    costs four times the work of a 300 dpi one and reads no better."""
    grey = image.convert("L") if image.mode != "L" else image
    pixels = grey.width * grey.height
    limit = max_megapixels * 1_000_000
    if pixels <= limit:
        return grey
    factor = math.sqrt(limit / pixels)
    size = (max(1, int(grey.width * factor)), max(1, int(grey.height * factor)))
    return grey.resize(size, Image.Resampling.LANCZOS)


def turn_upright(image: Image.Image, angle: int) -> Image.Image:
    """Undo `angle`: the image shows the page turned clockwise by that many degrees."""
    return image.transpose(_TURN[angle]) if angle in _TURN else image


def _profile_sharpness(ink: np.ndarray) -> tuple[float, float]:
    """How sharply ink falls into rows (horizontal lines) and into columns (vertical lines)."""
    rows = ink.sum(axis=1, dtype=np.float64)
    cols = ink.sum(axis=0, dtype=np.float64)
    return float(np.square(np.diff(rows)).sum()), float(np.square(np.diff(cols)).sum())


def _ink(image: Image.Image, width: int = 900) -> Image.Image:
    """A small black-and-white copy (ink = 255) to measure text direction and skew on."""
    small = image
    if image.width > width:
        small = image.resize((width, max(1, round(image.height * width / image.width))), Image.Resampling.BILINEAR)
    return small.point(lambda value: 255 if value < 128 else 0)


def is_vertical(image: Image.Image) -> bool:
    """True if the text runs in columns (Japanese vertical writing, or a page on its side)."""
    rows, cols = _profile_sharpness(np.asarray(_ink(image)) > 0)
    return cols > rows * 1.5


def estimate_skew(image: Image.Image, max_degrees: float = 5.0) -> float:
    """The small rotation (degrees, counter-clockwise) that makes text lines straightest, found by
    trying angles and keeping the one whose ink profile is sharpest (coarse, then fine)."""
    ink = _ink(image)

    def sharpness(angle: float) -> float:
        turned = ink.rotate(angle, resample=Image.Resampling.NEAREST, fillcolor=0)
        return max(_profile_sharpness(np.asarray(turned) > 0))

    coarse = [step * 0.5 for step in range(int(-max_degrees * 2), int(max_degrees * 2) + 1)]
    best = max(coarse, key=sharpness)
    fine = [best + step * 0.1 for step in range(-4, 5)]
    straightest: float = max(fine, key=sharpness)
    return round(straightest, 2)


def straighten(image: Image.Image, degrees: float) -> Image.Image:
    return image.rotate(degrees, resample=Image.Resampling.BICUBIC, fillcolor=255)


@dataclass(frozen=True)
class PageGeometry:
    """The turns between the caller's image (`size`, before any change) and the image read:
    first a quarter turn (`angle`, undone), then a small rotation (`skew` degrees counter-clockwise)."""

    size: tuple[int, int]  # the bounded image, in the caller's orientation
    angle: int
    skew: float

    def to_fractions(self, box: Box) -> tuple[float, float, float, float]:
        """A box on the image read as fractions (0..1) of the caller's image."""
        width, height = self.size
        upright_w, upright_h = (height, width) if self.angle in (90, 270) else (width, height)
        corners = [(box[0], box[1]), (box[2], box[1]), (box[2], box[3]), (box[0], box[3])]
        points = [self._to_caller(*self._unskew(x, y, upright_w, upright_h), width, height) for x, y in corners]
        xs = [min(max(x / width, 0.0), 1.0) for x, _ in points]
        ys = [min(max(y / height, 0.0), 1.0) for _, y in points]
        return (round(min(xs), 5), round(min(ys), 5), round(max(xs), 5), round(max(ys), 5))

    def _unskew(self, x: float, y: float, width: int, height: int) -> tuple[float, float]:
        if not self.skew:
            return x, y
        # PIL turned the image counter-clockwise about its centre; turn the point back (y points down).
        theta = math.radians(self.skew)
        cx, cy = width / 2, height / 2
        dx, dy = x - cx, y - cy
        return cx + dx * math.cos(theta) - dy * math.sin(theta), cy + dx * math.sin(theta) + dy * math.cos(theta)

    def _to_caller(self, x: float, y: float, width: int, height: int) -> tuple[float, float]:
        if self.angle == 90:
            return width - y, x
        if self.angle == 180:
            return width - x, height - y
        if self.angle == 270:
            return y, height - x
        return x, y


def join_words(texts: Sequence[str]) -> str:
    """One line from its words: single spaces, none between two Japanese characters."""
    line = _SPACES.sub(" ", " ".join(text.strip() for text in texts if text.strip()))
    return _PUNCT_SPACE.sub("", _CJK_SPACE.sub("", line))


def is_cjk(text: str) -> bool:
    return bool(re.fullmatch(rf"[{CJK}]+", text))


def runs(text: str) -> list[str]:
    """The words of a line: Latin words split at spaces, Japanese as runs of characters."""
    return re.findall(rf"[{CJK}]+|[^\s{CJK}]+", text)
