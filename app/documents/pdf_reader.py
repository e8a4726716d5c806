"""Read a PDF into one cleaned text per page, in a resource-limited child process.

PDFs are untrusted input: a crafted content stream can make PDFium allocate gigabytes or loop.
Parsing therefore happens in a forkserver child with an address-space limit and a wall-clock
timeout; if the child dies, the file is reported as damaged and the app carries on.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Literal

from app.documents.text_clean import clean_page_text
from app.errors import IngestError

Parser = Literal["pypdfium2", "pypdf"]


@dataclass(frozen=True)
class PageText:
    number: int  # 1-based physical page
    label: str  # printed page label ("iv", "12"); the physical number when the PDF has none
    text: str


@dataclass(frozen=True)
class ReadLimits:
    max_pages: int = 2000
    timeout_s: float = 120.0
    memory_mb: int = 2048
    isolate: bool = True


def read_pdf(path: Path, parser: Parser = "pypdfium2", limits: ReadLimits | None = None) -> list[PageText]:
    """Return the cleaned text of every page. Raises IngestError with a reason code:
    encrypted, damaged, too_large, no_text, timeout."""
    limits = limits or ReadLimits()
    if not limits.isolate:
        pages = _extract(path, parser, limits.max_pages)
    else:
        pages = _extract_in_child(path, parser, limits)
    if not any(page.text for page in pages):
        raise IngestError(
            "the PDF has no text layer (a scanned document?); run OCR on it first", reason="no_text"
        )
    return pages


def _extract(path: Path, parser: Parser, max_pages: int) -> list[PageText]:
    raw = _extract_pdfium(path, max_pages) if parser == "pypdfium2" else _extract_pypdf(path, max_pages)
    return [
        PageText(number=i + 1, label=label or str(i + 1), text=clean_page_text(text))
        for i, (label, text) in enumerate(raw)
    ]


def _too_large(n_pages: int, max_pages: int) -> IngestError:
    return IngestError(f"the PDF has {n_pages} pages; the limit is {max_pages}", reason="too_large")


def _extract_pdfium(path: Path, max_pages: int) -> list[tuple[str, str]]:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as e:
        if "password" in str(e).lower():
            raise IngestError("the PDF is encrypted (password-protected)", reason="encrypted") from e
        raise IngestError("the file is damaged or not a PDF", reason="damaged") from e
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
        return out
    finally:
        pdf.close()


def _extract_pypdf(path: Path, max_pages: int) -> list[tuple[str, str]]:
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
        return [
            (labels[i] if i < len(labels) else "", page.extract_text() or "")
            for i, page in enumerate(reader.pages)
        ]
    except IngestError:
        raise
    except (PdfReadError, ValueError, KeyError, OSError) as e:
        raise IngestError("the file is damaged or not a PDF", reason="damaged") from e


def _child(conn: Connection, path: str, parser: Parser, max_pages: int, memory_mb: int) -> None:
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        conn.send(("ok", _extract(Path(path), parser, max_pages)))
    except IngestError as e:
        conn.send(("error", (str(e), e.reason)))
    except MemoryError:
        conn.send(("error", ("the PDF needs too much memory to read", "too_large")))
    except Exception as e:
        conn.send(("error", (f"the file is damaged or not a PDF ({type(e).__name__})", "damaged")))
    finally:
        conn.close()


_CTX = mp.get_context("forkserver")


def _extract_in_child(path: Path, parser: Parser, limits: ReadLimits) -> list[PageText]:
    receiver, sender = _CTX.Pipe(duplex=False)
    proc = _CTX.Process(
        target=_child, args=(sender, str(path), parser, limits.max_pages, limits.memory_mb), daemon=True
    )
    proc.start()
    sender.close()
    try:
        if not receiver.poll(limits.timeout_s):
            raise IngestError(f"reading the PDF took longer than {limits.timeout_s:.0f} s", reason="timeout")
        status, payload = receiver.recv()
    except EOFError as e:  # the child died (memory limit, crash) without answering
        raise IngestError("the PDF could not be read (the reader crashed)", reason="damaged") from e
    finally:
        receiver.close()
        if proc.is_alive():
            proc.kill()
        proc.join(5)
    if status == "error":
        message, reason = payload
        raise IngestError(message, reason=reason)
    return list(payload)
