"""Tesseract, in-process through tesserocr (its wheel bundles libtesseract; the language data comes
from Debian's tesseract-ocr-* packages).

Orientation comes from Tesseract's own OSD (osd.traineddata, from tesseract-ocr-osd). A page set in
vertical columns is read by a second instance, made only when a page needs it, with jpn_vert as a
single block of vertical text (page segmentation mode 5): loading jpn+jpn_vert for every page
doubles the time of horizontal pages and reads them no better, and Tesseract's automatic layout
cuts a vertical page into pieces and reads some of them as horizontal noise (a quarter of the
characters of tests/fixtures/scans.py's vertical page wrong, against 1 % this way).
The bundled library runs single-threaded; run one engine per process to use more cores.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from app.documents.ocr_image import Line, Word

TESSDATA_DIRS = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
)
OSD_MIN_CONFIDENCE = 1.5  # below this Tesseract's orientation guess is noise (a page with a few words)


def debian_package(language: str) -> str:
    return "tesseract-ocr-" + language.replace("_", "-").lower()


def _tessdata(extra: str | None) -> list[Path]:
    dirs = [extra] if extra else []
    prefix = os.environ.get("TESSDATA_PREFIX")
    if prefix:
        dirs += [prefix, str(Path(prefix) / "tessdata")]
    return [Path(d) for d in (*dirs, *TESSDATA_DIRS)]


def needed_models(languages: Sequence[str]) -> list[str]:
    """Every traineddata file the engine loads for these languages (osd always; jpn_vert with jpn)."""
    models = [lang for lang in languages if lang != "osd"]
    if "jpn" in models and "jpn_vert" not in models:
        models.append("jpn_vert")
    return [*models, "osd"]


def find_tessdata(languages: Sequence[str], tessdata: str | None = None) -> tuple[Path | None, list[str]]:
    """The first folder holding all the models needed, or (the best folder, the models it lacks)."""
    needed = needed_models(languages)
    best: tuple[Path | None, list[str]] = (None, needed)
    for folder in _tessdata(tessdata):
        missing = [model for model in needed if not (folder / f"{model}.traineddata").is_file()]
        if not missing:
            return folder, []
        if folder.is_dir() and len(missing) < len(best[1]):
            best = (folder, missing)
    return best


def missing(languages: Sequence[str], tessdata: str | None = None) -> str | None:
    try:
        import tesserocr  # noqa: F401
    except ImportError as e:
        return f"the tesseract engine needs the Python package tesserocr (pip install tesserocr): {e}"
    folder, lacking = find_tessdata(languages, tessdata)
    if not lacking:
        return None
    packages = " ".join(debian_package(model) for model in lacking)
    where = f" in {folder}" if folder else f" (looked in {', '.join(str(p) for p in _tessdata(tessdata))})"
    return (
        f"Tesseract language data missing{where}: {', '.join(m + '.traineddata' for m in lacking)}; "
        f"install the Debian packages: apt-get install {packages}"
    )


class TesseractReader:
    """Reads upright page images with Tesseract; one instance per process (not thread-safe)."""

    def __init__(self, languages: Sequence[str], tessdata: str | None = None) -> None:
        from tesserocr import PSM, PyTessBaseAPI

        folder, _ = find_tessdata(languages, tessdata)
        self._path = str(folder)
        horizontal = [lang for lang in languages if lang not in ("jpn_vert", "osd")]
        # Japanese first when asked for: its model also reads the Latin text of Japanese pages.
        horizontal.sort(key=lambda lang: lang != "jpn")
        self._languages = "+".join(horizontal)
        self._vertical_languages = "+".join(["jpn_vert", *[x for x in horizontal if x != "jpn"]])
        self.reads_vertical = "jpn" in horizontal
        self._api = PyTessBaseAPI(path=self._path, lang=self._languages, psm=PSM.AUTO)
        self._osd = PyTessBaseAPI(path=self._path, lang="osd", psm=PSM.OSD_ONLY)
        self._vertical_api: Any = None

    def orientation(self, image: Image.Image) -> int:
        """Clockwise quarter turns of the page in the image (0 if Tesseract is unsure)."""
        self._osd.SetImage(image)
        try:
            found = self._osd.DetectOrientationScript()
        except RuntimeError:  # too few characters to tell
            return 0
        if not found or found.get("orient_conf", 0.0) < OSD_MIN_CONFIDENCE:
            return 0
        return int(found["orient_deg"]) % 360

    def read(self, image: Image.Image, vertical: bool = False) -> list[Line]:
        vertical = vertical and self.reads_vertical
        api = self._vertical() if vertical else self._api
        api.SetImage(image)
        api.Recognize()
        # Tesseract makes each column of vertical text a paragraph: the text flows on regardless.
        return _lines(api, paragraphs=not vertical)

    def _vertical(self) -> Any:
        if self._vertical_api is None:
            from tesserocr import PSM, PyTessBaseAPI

            self._vertical_api = PyTessBaseAPI(
                path=self._path, lang=self._vertical_languages, psm=PSM.SINGLE_BLOCK_VERT_TEXT
            )
        return self._vertical_api

    def close(self) -> None:
        for api in (self._api, self._osd, self._vertical_api):
            if api is not None:
                api.End()


def _lines(api: Any, paragraphs: bool) -> list[Line]:
    from tesserocr import RIL

    lines: list[Line] = []
    iterator = api.GetIterator()
    if iterator is None:
        return lines
    words: list[Word] = []
    paragraph = False
    while True:
        if not iterator.Empty(RIL.WORD):
            if iterator.IsAtBeginningOf(RIL.TEXTLINE) and words:
                lines.append(Line(words, paragraph))
                words = []
            if not words:
                paragraph = paragraphs and iterator.IsAtBeginningOf(RIL.PARA)
            text = (iterator.GetUTF8Text(RIL.WORD) or "").strip()
            box = iterator.BoundingBox(RIL.WORD)
            if text and box:
                words.append(Word(text, tuple(float(v) for v in box)))  # type: ignore[arg-type]
        if not iterator.Next(RIL.WORD):
            break
    if words:
        lines.append(Line(words, paragraph))
    return lines
