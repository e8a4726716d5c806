"""A PDF's text, read in this process with PDFium (pypdfium2) or pypdf: each page's text, cleaned,
with its printed label and the outline (bookmark) entries that point at it; pages without a usable
text layer recognised from their image when OCR is on (app/documents/scanned.py). Untrusted files
are read through app/documents/pdf_reader.py, which runs this in a limited child process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, Literal

from app.documents.scanned import OcrOptions, PageRecogniser, Word
from app.documents.text_clean import clean_page_text
from app.errors import IngestError

Parser = Literal["pypdfium2", "pypdf"]
Outline = list[tuple[int, int, str]]  # (depth, 0-based page index, title)
MAX_OUTLINE = 5000  # entries kept from a PDF outline
MAX_TITLE = 200  # characters kept of one heading
DAMAGED = "the PDF is damaged or incomplete (cut off during an upload or download?)"


@dataclass(frozen=True)
class PageText:
    number: int  # 1-based physical page
    label: str  # printed page label ("iv", "12"); the physical number when the PDF has none
    text: str
    # Outline (bookmark) entries pointing at this page, in document order: (depth, title).
    headings: tuple[tuple[int, str], ...] = ()
    ocr: bool = False  # the text was recognised from the page's image
    words: tuple[Word, ...] = ()  # the recognised words and their boxes (when `ocr`)
    note: str = ""  # why a page that needed recognising has no text ("its text could not be recognised: ...")


def extract_pages(
    path: Path,
    parser: Parser,
    max_pages: int,
    ocr: OcrOptions | None = None,
    start: int = 0,
    announce: Callable[[PageText], None] = lambda _page: None,
) -> tuple[int, Iterator[PageText]]:
    """The page count now (errors for unreadable files raised here), and the pages from index `start`
    as they are read; with `ocr`, pages that need it recognised (`announce(page)` before each)."""
    opened = _open_pdfium(path, max_pages, start) if parser == "pypdfium2" else _open_pypdf(path, max_pages, start)
    count, outline, raw = opened
    headings: dict[int, list[tuple[int, str]]] = {}
    for depth, index, title in outline:
        title = " ".join(clean_page_text(title[: 4 * MAX_TITLE]).split())[:MAX_TITLE]  # outlines can hold megabytes
        if title and 0 <= index < count:
            headings.setdefault(index, []).append((depth, title))

    def pages() -> Iterator[PageText]:
        recogniser = PageRecogniser(path, ocr) if ocr is not None and ocr.mode != "off" else None
        try:
            for i, (label, text) in enumerate(raw, start):
                page = PageText(
                    number=i + 1,
                    label=label or str(i + 1),
                    text=clean_page_text(text),
                    headings=tuple(headings.get(i, ())),
                )
                found = recogniser.read(page.text, i, partial(announce, page)) if recogniser is not None else None
                if found is not None and found.note:
                    page = replace(page, note=found.note)
                elif found is not None:
                    page = replace(page, text=found.text, ocr=True, words=found.words)
                yield page
        finally:
            if recogniser is not None:
                recogniser.close()

    return count, pages()


def _too_large(n_pages: int, max_pages: int) -> IngestError:
    return IngestError(f"the PDF has {n_pages} pages; the limit is {max_pages}", reason="too_large")


RawPages = Iterator[tuple[str, str]]  # (label, text) per page, in order from the first page asked for


def _open_pdfium(path: Path, max_pages: int, start: int = 0) -> tuple[int, Outline, RawPages]:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as e:
        if "password" in str(e).lower():
            raise IngestError("the PDF is encrypted (password-protected)", reason="encrypted") from e
        if "(PDFium: Success)" in str(e):  # PDFium's way of saying the page tree is empty
            raise IngestError("the PDF has no pages", reason="damaged") from e
        raise IngestError(DAMAGED, reason="damaged") from e
    try:
        n = len(pdf)
        if n == 0:
            raise IngestError("the PDF has no pages", reason="damaged")
        if n > max_pages:
            raise _too_large(n, max_pages)
        outline = _outline_pdfium(pdf)
    except BaseException:
        pdf.close()
        raise

    def pages() -> RawPages:
        try:
            for i in range(start, n):
                page = pdf[i]
                textpage = page.get_textpage()
                try:
                    text = textpage.get_text_bounded()
                finally:
                    textpage.close()
                    page.close()
                yield pdf.get_page_label(i) or "", text
        finally:
            pdf.close()

    return n, outline, pages()


def _outline_pdfium(pdf: Any) -> Outline:
    """The PDF's bookmarks; a broken outline is ignored (it only adds context)."""
    outline: Outline = []
    try:
        for item in pdf.get_toc(max_depth=8):
            dest = item.get_dest()
            index = dest.get_index() if dest is not None else None
            if index is not None:
                outline.append((int(item.level), int(index), str(item.get_title() or "")))
            if len(outline) >= MAX_OUTLINE:
                break
    except Exception:
        return []
    return outline


def _outline_pypdf(reader: Any) -> Outline:
    outline: Outline = []

    def walk(items: list[Any], depth: int) -> None:
        for item in items:
            if len(outline) >= MAX_OUTLINE:
                return
            if isinstance(item, list):
                walk(item, depth + 1)
                continue
            index = reader.get_destination_page_number(item)
            if index is not None and index >= 0:
                outline.append((depth, int(index), str(item.title or "")))

    try:
        walk(reader.outline, 0)
    except Exception:
        return []
    return outline


def _open_pypdf(path: Path, max_pages: int, start: int = 0) -> tuple[int, Outline, RawPages]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise IngestError("the PDF is encrypted (password-protected)", reason="encrypted")
        n = len(reader.pages)
        if n == 0:
            raise IngestError("the PDF has no pages", reason="damaged")
        if n > max_pages:
            raise _too_large(n, max_pages)
        labels = list(reader.page_labels)
        outline = _outline_pypdf(reader)
    except IngestError:
        raise
    except (PdfReadError, ValueError, KeyError, OSError) as e:
        raise IngestError(DAMAGED, reason="damaged") from e

    def pages() -> RawPages:
        for i in range(start, n):
            page = reader.pages[i]
            try:
                text = page.extract_text() or ""
            except (PdfReadError, ValueError, KeyError, OSError) as e:
                raise IngestError(DAMAGED, reason="damaged") from e
            yield labels[i] if i < len(labels) else "", text

    return n, outline, pages()
