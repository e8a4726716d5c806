"""Render a cited page as an image, for the page view beside a citation."""

from __future__ import annotations

from PIL import Image

from app.documents.registry import DocumentRegistry
from app.errors import NotFound
from app.storage.files import FileStore

RENDER_SCALE = 1.6  # about 115 dpi: legible on screen, small enough to send


class PageRenderer:
    def __init__(self, registry: DocumentRegistry, files: FileStore) -> None:
        self._registry = registry
        self._files = files

    def render(self, owner: str, doc_id: str, page: int) -> Image.Image:
        """The page (1-based) of one of `owner`'s documents; NotFound for anyone else's."""
        import pypdfium2 as pdfium

        doc = self._registry.get(owner, doc_id)
        if not 1 <= page <= max(doc.pages, 1):
            raise NotFound("page not found")
        with self._files.local_copy(owner, doc.sha256) as path:
            pdf = pdfium.PdfDocument(str(path))
            try:
                bitmap = pdf[page - 1].render(scale=RENDER_SCALE)
                return bitmap.to_pil().convert("RGB")
            finally:
                pdf.close()
