"""Read a PDF into one cleaned text per page, in a resource-limited child process.

PDFs are untrusted input: a crafted content stream can make PDFium allocate gigabytes or loop.
Parsing therefore happens in a child interpreter with an address-space limit and a wall-clock
timeout; if the child dies, the file is reported as damaged and the app carries on.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from app.documents.text_clean import clean_page_text
from app.errors import IngestError

Parser = Literal["pypdfium2", "pypdf"]
Outline = list[tuple[int, int, str]]  # (depth, 0-based page index, title)
MAX_OUTLINE = 5000  # entries kept from a PDF outline
MAX_TITLE = 200  # characters kept of one heading


@dataclass(frozen=True)
class PageText:
    number: int  # 1-based physical page
    label: str  # printed page label ("iv", "12"); the physical number when the PDF has none
    text: str
    # Outline (bookmark) entries pointing at this page, in document order: (depth, title).
    headings: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class ReadLimits:
    max_pages: int = 2000
    timeout_s: float = 120.0
    memory_mb: int = 2048
    isolate: bool = True


def check_file(path: Path, max_file_mb: float) -> None:
    """The checks made before a file is stored or read: its size, and the PDF signature (PDFium,
    like other readers, accepts it anywhere in the first kilobyte). Raises IngestError."""
    size = path.stat().st_size
    if size > max_file_mb * 1024 * 1024:
        raise IngestError(f"the file is {size / 1048576:.1f} MB; the limit is {max_file_mb:g} MB", reason="too_large")
    if size == 0:
        raise IngestError("the file is empty (0 bytes)", reason="damaged")
    with open(path, "rb") as fh:
        head = fh.read(1024)
    # Another format's signature wins even when "%PDF-" appears further on (an HTML page about PDFs).
    kind = next((k for signature, k in _OTHER_FORMATS if head.lstrip().lower().startswith(signature)), None)
    if kind or b"%PDF-" not in head:
        raise IngestError(f"the file is {kind}, not a PDF" if kind else "the file is not a PDF", reason="damaged")


# What is most often uploaded by mistake under a .pdf name (file signatures, lower-cased).
_OTHER_FORMATS = (
    (b"pk\x03\x04", "a ZIP archive (or an Office document)"),
    (b"<!doctype html", "an HTML page"),
    (b"<html", "an HTML page"),
    (b"\x89png", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"{\\rtf", "an RTF document"),
    (b"\xd0\xcf\x11\xe0", "an old Office document"),
)
DAMAGED = "the PDF is damaged or incomplete (cut off during an upload or download?)"


def read_pdf(path: Path, parser: Parser = "pypdfium2", limits: ReadLimits | None = None) -> list[PageText]:
    """Return the cleaned text of every page. Raises IngestError with a reason code:
    encrypted, damaged, too_large, no_text, timeout."""
    limits = limits or ReadLimits()
    pages = _extract_in_child(path, parser, limits) if limits.isolate else _extract(path, parser, limits.max_pages)
    if not any(page.text for page in pages):
        raise IngestError("the PDF has no text layer (a scanned document?); run OCR on it first", reason="no_text")
    return pages


def _extract(path: Path, parser: Parser, max_pages: int) -> list[PageText]:
    raw, outline = _extract_pdfium(path, max_pages) if parser == "pypdfium2" else _extract_pypdf(path, max_pages)
    headings: dict[int, list[tuple[int, str]]] = {}
    for depth, index, title in outline:
        title = " ".join(clean_page_text(title[: 4 * MAX_TITLE]).split())[:MAX_TITLE]  # outlines can hold megabytes
        if title and 0 <= index < len(raw):
            headings.setdefault(index, []).append((depth, title))
    return [
        PageText(
            number=i + 1,
            label=label or str(i + 1),
            text=clean_page_text(text),
            headings=tuple(headings.get(i, ())),
        )
        for i, (label, text) in enumerate(raw)
    ]


def _too_large(n_pages: int, max_pages: int) -> IngestError:
    return IngestError(f"the PDF has {n_pages} pages; the limit is {max_pages}", reason="too_large")


def _extract_pdfium(path: Path, max_pages: int) -> tuple[list[tuple[str, str]], Outline]:
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
        out = []
        for i in range(n):
            page = pdf[i]
            textpage = page.get_textpage()
            try:
                out.append((pdf.get_page_label(i) or "", textpage.get_text_bounded()))
            finally:
                textpage.close()
                page.close()
        return out, _outline_pdfium(pdf)
    finally:
        pdf.close()


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


def _extract_pypdf(path: Path, max_pages: int) -> tuple[list[tuple[str, str]], Outline]:
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
        pages = [
            (labels[i] if i < len(labels) else "", page.extract_text() or "") for i, page in enumerate(reader.pages)
        ]
        return pages, _outline_pypdf(reader)
    except IngestError:
        raise
    except (PdfReadError, ValueError, KeyError, OSError) as e:
        raise IngestError(DAMAGED, reason="damaged") from e


def limit_memory(memory_mb: int) -> None:
    """Cap this (child) process's address space: PDFium then fails an allocation instead of
    exhausting the machine. Shared by the reader and the page-render workers."""
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _run_child(path: str, parser: Parser, max_pages: int, memory_mb: int) -> tuple[str, object]:
    """Body of the child process: limit memory, extract, report ("ok", pages) or ("error", ...)."""
    limit_memory(memory_mb)
    try:
        return "ok", [(p.number, p.label, p.text, p.headings) for p in _extract(Path(path), parser, max_pages)]
    except IngestError as e:
        return "error", (str(e), e.reason)
    except MemoryError:
        return "error", ("the PDF needs too much memory to read", "too_large")
    except Exception as e:  # anything else from the parser means a damaged file
        return "error", (f"the file is damaged or not a PDF ({type(e).__name__})", "damaged")


def _extract_in_child(path: Path, parser: Parser, limits: ReadLimits) -> list[PageText]:
    # A fresh interpreter (not multiprocessing): nothing of the caller's process or __main__ is
    # inherited or re-imported, and killing it on timeout cannot leave locks behind.
    command = [
        sys.executable,
        "-m",
        __name__,
        str(path),
        parser,
        str(limits.max_pages),
        str(limits.memory_mb),
    ]
    try:
        done = subprocess.run(command, capture_output=True, timeout=limits.timeout_s, check=False)
    except subprocess.TimeoutExpired as e:
        raise IngestError(f"reading the PDF took longer than {limits.timeout_s:.0f} s", reason="timeout") from e
    if done.returncode != 0 or not done.stdout:
        raise IngestError(
            f"the PDF could not be read: the reader stopped (damaged data, or more than {limits.memory_mb} MB "
            "of memory needed — a decompression bomb?)",
            reason="damaged",
        )
    status, payload = json.loads(done.stdout)
    if status == "error":
        message, reason = payload
        raise IngestError(message, reason=reason)
    return [
        PageText(
            number=int(n),
            label=str(label),
            text=str(text),
            headings=tuple((int(depth), str(title)) for depth, title in headings),
        )
        for n, label, text, headings in payload
    ]


if __name__ == "__main__":
    _path, _parser, _max_pages, _memory_mb = sys.argv[1:5]
    _result = _run_child(_path, _parser, int(_max_pages), int(_memory_mb))  # type: ignore[arg-type]
    sys.stdout.write(json.dumps(_result))  # ASCII-only: safe whatever the locale
