"""RapidOCR (PyPI `rapidocr`): PP-OCR detection, orientation and recognition models run by ONNX
Runtime. The wheel bundles one multilingual recogniser (Chinese, English, Japanese and Latin-script
languages); the models are named by path so that nothing is ever downloaded (rapidocr fetches
models it does not find).

Page orientation is chosen by reading a few of the longest text lines each way and keeping the
turn whose recognition scores best: lines that lie across the page can be 0 or 180, lines that run
down it 90 or 270. Vertical Japanese also runs down the page: read as a page turned by 90, its
columns come out in reading order (right to left, each top to bottom) and the recogniser reads
the sideways characters, so its text and boxes are right, but its `angle` says 90.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from app.documents.ocr_image import Box, Line, Word, runs

# Tesseract language codes this package's bundled models read (PP-OCRv6 multilingual recogniser).
LANGUAGES = frozenset(
    {
        "eng",
        "jpn",
        "jpn_vert",
        "chi_sim",
        "chi_tra",
        "fra",
        "deu",
        "spa",
        "ita",
        "por",
        "nld",
        "dan",
        "nor",
        "swe",
        "fin",
        "pol",
        "ces",
        "slk",
        "slv",
        "hrv",
        "hun",
        "ron",
        "tur",
        "vie",
        "ind",
        "msa",
        "cat",
        "eus",
        "glg",
        "lat",
        "lit",
        "lav",
        "est",
        "isl",
        "gle",
        "cym",
        "afr",
        "aze",
        "bos",
        "sqi",
        "swa",
        "tgl",
        "uzb",
        "mlt",
        "oci",
    }
)
MODELS = {
    "Det.model_path": "PP-OCRv6_det_small.onnx",
    "Rec.model_path": "PP-OCRv6_rec_small.onnx",
    "Cls.model_path": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
}
SAMPLE_LINES = 6  # lines read each way to decide the page's orientation
ORIENTATION_SIDE = 1024  # longest side of the copy the orientation check detects lines on


def _models_dir() -> Path:
    import rapidocr

    return Path(rapidocr.__file__).resolve().parent / "models"


def missing(languages: Sequence[str]) -> str | None:
    try:
        folder = _models_dir()
    except ImportError as e:
        return f"the rapidocr engine needs the Python package rapidocr (pip install rapidocr): {e}"
    lacking = [name for name in MODELS.values() if not (folder / name).is_file()]
    if lacking:
        return f"rapidocr's bundled models are missing from {folder}: {', '.join(lacking)} (reinstall rapidocr)"
    unknown = [lang for lang in languages if lang not in LANGUAGES]
    if unknown:
        return f"rapidocr's bundled models do not read {', '.join(unknown)} (they read {', '.join(sorted(LANGUAGES))})"
    return None


class RapidReader:
    """Reads page images with RapidOCR's bundled models; one instance per process."""

    reads_vertical = True

    def __init__(self, threads: int | None = None) -> None:
        from omegaconf import flag_override
        from rapidocr import RapidOCR

        folder = _models_dir()
        params: dict[str, Any] = {key: str(folder / name) for key, name in MODELS.items()}
        params["Global.log_level"] = "error"
        self._ocr: Any = RapidOCR(params=params)
        # Sessions of our own (rapidocr takes one per model from its config): ONNX Runtime's threads
        # spin while they wait for work, which on a shared 2-core machine made the embedding model 3x
        # slower (docs/benchmarks.md, "Spinning threads").
        with flag_override(self._ocr.cfg, "allow_objects", True):
            for key, name in MODELS.items():
                self._ocr.cfg[key.split(".")[0]].session = _session(folder / name, threads or os.cpu_count() or 1)

    def orientation(self, image: Image.Image) -> int:
        """Clockwise quarter turns of the page in the image, from how well sample lines read each way."""
        small = image
        if max(image.size) > ORIENTATION_SIDE:
            factor = ORIENTATION_SIDE / max(image.size)
            small = image.resize((round(image.width * factor), round(image.height * factor)))
        pixels = np.asarray(small.convert("RGB"))
        found = self._ocr._load_det_model()(pixels)
        if found.boxes is None or len(found.boxes) == 0:
            return 0
        crops = [_crop(pixels, box) for box in found.boxes]
        crops = sorted((c for c in crops if c.size), key=lambda c: -max(c.shape[:2]))[:SAMPLE_LINES]
        tall = sum(c.shape[0] > c.shape[1] for c in crops) > len(crops) / 2
        turns = {90: 1, 270: -1} if tall else {0: 0, 180: 2}  # np.rot90 turns counter-clockwise
        scores = {angle: self._score([np.rot90(c, k) for c in crops]) for angle, k in turns.items()}
        return max(scores, key=lambda angle: scores[angle])

    def _score(self, crops: list[np.ndarray]) -> float:
        from rapidocr.ch_ppocr_rec import TextRecInput

        result = self._ocr._load_rec_model()(TextRecInput(img=[np.ascontiguousarray(c) for c in crops]))
        if not result.txts:
            return 0.0
        # Long confident readings count most: a line read upside down comes out short and unsure.
        return float(sum(score * len(text) for text, score in zip(result.txts, result.scores, strict=False)))

    def read(self, image: Image.Image, vertical: bool = False) -> list[Line]:
        pixels = np.asarray(image.convert("RGB"))
        from rapidocr.utils.output import RapidOCROutput

        result = self._ocr(pixels, use_det=True, use_cls=True, use_rec=True, return_word_box=True)
        if not isinstance(result, RapidOCROutput) or result.boxes is None or not result.txts:
            return []  # nothing found on the page (rapidocr then returns one of its partial outputs)
        # rapidocr drops a line's word boxes when it has none, so only aligned lists can be zipped.
        aligned = len(result.word_results) == len(result.txts)
        lines: list[Line] = []
        previous: tuple[float, float] | None = None  # bottom and height of the line before
        for index, (text, quad) in enumerate(zip(result.txts, result.boxes, strict=False)):
            box = _bounds(quad)
            words = _words(text, result.word_results[index] if aligned else (), box)
            height = box[3] - box[1]
            starts_paragraph = previous is not None and box[1] - previous[0] > 0.8 * max(height, previous[1])
            lines.append(Line(words, starts_paragraph, text))
            previous = (box[3], height)
        return lines

    def close(self) -> None:
        self._ocr = None


def _session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.enable_cpu_mem_arena = False  # rapidocr's own setting: every page and line has its own size
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _crop(pixels: np.ndarray, quad: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = (round(v) for v in _bounds(quad))
    return pixels[max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)]


def _bounds(quad: Any) -> Box:
    points = np.asarray(quad, dtype=np.float64).reshape(-1, 2)
    return (float(points[:, 0].min()), float(points[:, 1].min()), float(points[:, 0].max()), float(points[:, 1].max()))


def _words(text: str, entries: Sequence[Any], line_box: Box) -> list[Word]:
    """The line's words (Japanese: character runs) with boxes made from rapidocr's word and
    character boxes; shared out along the line by character count where those do not fit."""
    chars = _char_boxes(entries)
    if len(chars) != len(text.replace(" ", "")):
        chars = _spread(text.replace(" ", ""), line_box)
    words, done = [], 0
    for word in runs(text):
        boxes = chars[done : done + len(word)]
        done += len(word)
        words.append(Word(word, _union(boxes)))
    return words


def _union(boxes: Sequence[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _char_boxes(entries: Sequence[Any]) -> list[Box]:
    """One box per character (spaces left out) from rapidocr's entries, each a word or a character."""
    chars: list[Box] = []
    for word, _score, quad in entries:
        letters = str(word).replace(" ", "")
        if not letters:
            continue
        if quad is None:
            return []
        x0, y0, x1, y1 = _bounds(quad)
        step = (x1 - x0) / len(letters)
        chars.extend((x0 + i * step, y0, x0 + (i + 1) * step, y1) for i in range(len(letters)))
    return chars


def _spread(letters: str, box: Box) -> list[Box]:
    x0, y0, x1, y1 = box
    count = max(len(letters), 1)
    if x1 - x0 >= y1 - y0:
        step = (x1 - x0) / count
        return [(x0 + i * step, y0, x0 + (i + 1) * step, y1) for i in range(count)]
    step = (y1 - y0) / count
    return [(x0, y0 + i * step, x1, y0 + (i + 1) * step) for i in range(count)]
