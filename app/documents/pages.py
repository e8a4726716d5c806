"""Render a cited page as an image, with the cited passage highlighted, for the page view."""

from __future__ import annotations

import unicodedata
from typing import Any

from PIL import Image, ImageDraw

from app.documents.registry import DocumentRegistry
from app.errors import NotFound
from app.storage.files import FileStore

RENDER_SCALE = 1.6  # about 115 dpi: legible on screen, small enough to send
HIGHLIGHT = (255, 214, 0, 90)  # translucent yellow
_ANCHOR = 40  # characters matched at each end of the passage


class PageRenderer:
    def __init__(self, registry: DocumentRegistry, files: FileStore) -> None:
        self._registry = registry
        self._files = files

    def render(self, owner: str, doc_id: str, page: int, passage: str | None = None) -> Image.Image:
        """The page (1-based) of one of `owner`'s documents; NotFound for anyone else's."""
        import pypdfium2 as pdfium

        doc = self._registry.get(owner, doc_id)
        if not 1 <= page <= max(doc.pages, 1):
            raise NotFound("page not found")
        with self._files.local_copy(owner, doc.sha256) as path:
            pdf = pdfium.PdfDocument(str(path))
            try:
                pdf_page = pdf[page - 1]
                image = pdf_page.render(scale=RENDER_SCALE).to_pil().convert("RGB")
                if passage:
                    textpage = pdf_page.get_textpage()
                    try:
                        rects = _passage_rects(textpage, passage)
                    finally:
                        textpage.close()
                    image = _highlight(image, rects, pdf_page.get_height())
                return image
            finally:
                pdf.close()


def _key(text: str) -> tuple[str, list[int]]:
    """Text reduced to what survives cleaning differences (spacing, hyphens, case, width),
    with the index of each kept character in the original."""
    kept, index = [], []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKC", ch).lower():
            if c.isalnum():
                kept.append(c)
                index.append(i)
    return "".join(kept), index


def _passage_rects(textpage: Any, passage: str) -> list[tuple[float, float, float, float]]:
    """PDF-space rectangles covering the passage on the page ([] when it cannot be located)."""
    raw = textpage.get_text_range()
    page_key, index = _key(raw)
    wanted, _ = _key(passage)
    if len(wanted) < 8:
        return []
    start = page_key.find(wanted[:_ANCHOR])
    if start < 0:
        return []
    end = page_key.find(wanted[-_ANCHOR:], start)
    end = end + min(_ANCHOR, len(wanted)) if end >= 0 else min(len(page_key), start + len(wanted))
    first, last = index[start], index[end - 1]
    count = textpage.count_rects(first, last - first + 1)
    return [textpage.get_rect(i) for i in range(count)]


def _highlight(image: Image.Image, rects: list[tuple[float, float, float, float]], height: float) -> Image.Image:
    if not rects:
        return image
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for left, bottom, right, top in rects:
        draw.rectangle(
            [
                left * RENDER_SCALE - 2,
                (height - top) * RENDER_SCALE - 2,
                right * RENDER_SCALE + 2,
                (height - bottom) * RENDER_SCALE + 2,
            ],
            fill=HIGHLIGHT,
        )
    return Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")
