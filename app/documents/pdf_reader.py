"""Read a PDF into one cleaned text per page, in a resource-limited child process.

PDFs are untrusted input: a crafted content stream can make PDFium allocate gigabytes or loop.
Parsing therefore happens in a child interpreter with an address-space limit and a wall-clock
timeout; if the child dies, the file is reported as damaged and the app carries on. Pages come back
one at a time as the child reads them, so ingestion can embed the first pages while the rest are
read, and never holds a whole long PDF's text. The parsing itself is app/documents/pdf_text.py.

Pages without a usable text layer are recognised (OCR) in the same child. Recognising a page takes
seconds, so that time is not counted against the reading time limit; each page has its own limit
instead. A page over it, or one whose recognition kills the child (memory), is left out with a
note, and a fresh child reads on from the next page: one bad page costs nothing but itself.

Why about 420 lines: both ends of the child's line protocol live here (what the child writes, how
the parent reads, times and restarts it), and they change together; the parsing and the OCR are
elsewhere (pdf_text.py, scanned.py).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from app.documents.pdf_text import DAMAGED, PageText, Parser, extract_pages
from app.documents.scanned import OcrOptions
from app.errors import IngestError

MAX_FAILED_PAGES = 3  # pages in a row whose recognition failed or took too long: the rest is not recognised
Recognising = Callable[[int, int], None]  # (page number, page count): a page is being recognised


@dataclass(frozen=True)
class ReadLimits:
    max_pages: int = 2000
    timeout_s: float = 120.0  # reading, recognition aside
    memory_mb: int = 2048
    isolate: bool = True
    ocr: OcrOptions = field(default_factory=OcrOptions)  # off unless asked for


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


def read_pdf(path: Path, parser: Parser = "pypdfium2", limits: ReadLimits | None = None) -> list[PageText]:
    """Return the cleaned text of every page. Raises IngestError with a reason code:
    encrypted, damaged, too_large, no_text, timeout."""
    with open_pdf(path, parser, limits) as pdf:
        pages = list(pdf)
    if not any(page.text for page in pages):
        raise no_text_error()
    return pages


def no_text_error(ocr: OcrOptions | None = None, notes: list[str] | None = None) -> IngestError:
    """Nothing to index: why, from what was tried. With OCR off (or unavailable) the PDF is refused
    as before; with OCR on, the pages' notes say what went wrong (or nothing was recognised)."""
    notes = notes or []
    timeouts = [n for n in notes if "took longer than" in n]
    if ocr is None or ocr.mode == "off":
        return IngestError(
            "the PDF has no text layer (a scanned document?) and text recognition is off (documents.ocr)",
            reason="no_text",
        )
    unavailable = next((n.split(": ", 1)[1] for n in notes if "OCR is unavailable" in n), None)
    if unavailable:
        return IngestError(f"the PDF has no text layer (a scanned document?) and {unavailable}", reason="no_text")
    if notes:
        shown = "; ".join(notes[:3]) + (f" (and {len(notes) - 3} more pages)" if len(notes) > 3 else "")
        return IngestError(f"no text could be read from the PDF: {shown}", reason="timeout" if timeouts else "no_text")
    return IngestError("the PDF has no text layer and no text was recognised on its pages", reason="no_text")


class PdfPages:
    """A PDF's pages, read one at a time: `count` is known on opening, the text arrives as the pages
    are iterated, so a 2,000-page file is never held in memory at once. Use it as a context manager
    (closing stops the reader process). Opening raises IngestError for a file that cannot be read
    at all (encrypted, damaged, too many pages); iterating may raise it later (damaged, timeout)."""

    def __init__(self, count: int, pages: Iterator[PageText], close: Callable[[], None] = lambda: None) -> None:
        # With OCR, pages that need it come back recognised (`ocr`, `words`) or with a `note`.
        self.count = count
        self._pages = pages
        self._close = close

    def __iter__(self) -> Iterator[PageText]:
        return self._pages

    def close(self) -> None:
        self._close()

    def __enter__(self) -> PdfPages:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def open_pdf(
    path: Path,
    parser: Parser = "pypdfium2",
    limits: ReadLimits | None = None,
    recognising: Recognising = lambda _number, _count: None,
) -> PdfPages:
    """Open a PDF for reading page by page, in the limited child process unless `isolate` is off
    (then the per-page recognition time limit is not enforced). `recognising(number, count)` is
    called before a page is recognised."""
    limits = limits or ReadLimits()
    if limits.isolate:
        return _ChildReader(path, parser, limits, recognising).open()
    counted = {"count": 0}
    count, pages = extract_pages(
        path, parser, limits.max_pages, limits.ocr, announce=lambda page: recognising(page.number, counted["count"])
    )
    counted["count"] = count
    return PdfPages(count, pages)


def limit_memory(memory_mb: int) -> None:
    """Cap this (child) process's address space: PDFium then fails an allocation instead of
    exhausting the machine. Shared by the reader and the page-render workers."""
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _run_child(request: dict[str, Any], parser: Parser, max_pages: int, memory_mb: int, out: TextIO) -> None:
    """Body of the child process: limit memory, then write JSON lines to `out` as pages are read:
    {"pages": n}, one {"page": [...]} per page (with "ocr": words or "note": text when recognition
    was tried), {"recognising": [number, label]} before a page is recognised, and {"end": "ok"} or
    {"error": [message, reason]}. `request`: the path, the first page index, the OCR options."""
    limit_memory(memory_mb)

    def emit(record: object) -> None:
        out.write(json.dumps(record) + "\n")  # ASCII-only: safe whatever the locale
        out.flush()  # the parent reads each page as soon as it is written

    try:
        ocr = OcrOptions(**{**request["ocr"], "languages": tuple(request["ocr"]["languages"])})
        count, pages = extract_pages(
            Path(request["path"]),
            parser,
            max_pages,
            ocr,
            start=int(request["start"]),
            announce=lambda page: emit({"recognising": [page.number, page.label]}),
        )
        emit({"pages": count})
        for p in pages:
            record: dict[str, Any] = {"page": [p.number, p.label, p.text, p.headings]}
            if p.ocr:
                record["ocr"] = p.words
            if p.note:
                record["note"] = p.note
            emit(record)
        emit({"end": "ok"})
    except IngestError as e:
        emit({"error": [str(e), e.reason]})
    except MemoryError:
        emit({"error": ["the PDF needs too much memory to read", "too_large"]})
    except Exception as e:  # anything else from the parser means a damaged file
        emit({"error": [f"the file is damaged or not a PDF ({type(e).__name__})", "damaged"]})


def child_command(module: str, *args: str) -> tuple[list[str], dict[str, str]]:
    """Command and environment to run `python -m module args` in a fresh interpreter that imports
    this very `app` package: its folder goes first on the child's path, and `-P` keeps the working
    directory off it (an `app` folder there, or another checkout, would otherwise be run instead)."""
    root = str(Path(__file__).resolve().parents[2])
    paths = [root, *(p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)]
    return [sys.executable, "-P", "-m", module, *args], {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def _spawn_reader(parser: Parser, limits: ReadLimits) -> tuple[subprocess.Popen[bytes], TextIO]:
    """A reader child that starts its interpreter, limits its memory and imports the parser, then
    waits for one path on its stdin (end of input: it exits). Its output goes to a temporary file,
    unlinked at once (the open handles keep it, nothing is left behind whatever happens)."""
    fd, name = tempfile.mkstemp(prefix="pdfqa-pages-", suffix=".jsonl")
    try:
        out = open(name, encoding="ascii")  # noqa: SIM115 - kept open while the pages are read
        try:
            command, env = child_command(__name__, parser, str(limits.max_pages), str(limits.memory_mb))
            process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=fd, stderr=subprocess.DEVNULL, env=env)
        except BaseException:
            out.close()
            raise
    finally:
        os.close(fd)
        os.unlink(name)
    return process, out


class _Standby:
    """One reader child started ahead of need for each kind of read (parser and limits), so that
    opening a PDF finds an interpreter with PDFium already loaded: 0.1 s less before the first page
    of every file, which counts once per file when a folder is ingested. Each child reads one file
    and exits; a waiting child holds no file and exits when this process does (its stdin closes)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[tuple[Parser, ReadLimits], tuple[subprocess.Popen[bytes], TextIO]] = {}
        atexit.register(self.close)

    def take(self, parser: Parser, limits: ReadLimits) -> tuple[subprocess.Popen[bytes], TextIO]:
        key = (parser, limits)
        with self._lock:
            ready = self._waiting.pop(key, None)
            if ready is not None and ready[0].poll() is not None:  # died waiting (killed by someone)
                ready[1].close()
                ready = None
            taken = ready or _spawn_reader(parser, limits)
            self._waiting[key] = _spawn_reader(parser, limits)  # for the next file
        return taken

    def close(self) -> None:
        with self._lock:
            waiting, self._waiting = list(self._waiting.values()), {}
        for process, out in waiting:
            if process.stdin is not None:
                with contextlib.suppress(OSError):
                    process.stdin.close()  # end of input: it exits
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
            if process.poll() is None:
                process.kill()
                process.wait()
            out.close()


_STANDBY = _Standby()


class _ChildReader:
    """Runs the reader in a fresh interpreter (not multiprocessing: nothing of the caller's process
    or __main__ is inherited or re-imported, and killing it cannot leave locks behind). The child
    writes its lines to a temporary file, not a pipe, so it never waits for this process: its time
    limit measures its own work even while the pages it has read wait here to be embedded."""

    def __init__(self, path: Path, parser: Parser, limits: ReadLimits, recognising: Recognising) -> None:
        self._path = path
        self._parser = parser
        self._limits = limits
        self._recognising = recognising
        self._file: TextIO | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._started = 0.0
        self._count = 0
        self._page: tuple[int, str, float] | None = None  # the page being recognised: number, label, since

    def open(self) -> PdfPages:
        self._started = time.monotonic()  # the time limit counts from the path, not from the spawn
        try:
            self._count = self._start(0, self._limits.ocr)
        except BaseException:
            self.close()
            raise
        return PdfPages(self._count, self._pages(), self.close)

    def _start(self, first: int, ocr: OcrOptions) -> int:
        """A child reading from page index `first`; returns the page count it found."""
        self._process, self._file = _STANDBY.take(self._parser, self._limits)
        request = {"path": os.path.abspath(self._path), "start": first, "ocr": asdict(ocr)}
        try:
            assert self._process.stdin is not None
            # As JSON: a file name may hold a line break, or bytes that are not UTF-8.
            self._process.stdin.write(json.dumps(request).encode() + b"\n")
            self._process.stdin.close()
        except OSError:
            pass  # a child that died waiting is reported by _next() as a reader that stopped
        opened = self._next()
        if "pages" not in opened or (self._count and int(opened["pages"]) != self._count):
            raise IngestError(DAMAGED, reason="damaged")
        return int(opened["pages"])

    def _pages(self) -> Iterator[PageText]:
        failed = 0  # pages in a row whose recognition failed
        ocr = self._limits.ocr
        while True:
            try:
                record = self._next()
            except _PageFailed as e:
                self.close()
                failed += 1
                note = str(e)
                if failed >= MAX_FAILED_PAGES and e.number < self._count:
                    ocr = OcrOptions()  # the engine cannot cope with these pages: read the rest without it
                    note += f"; after {failed} such pages in a row the rest of the PDF was read without recognition"
                yield PageText(number=e.number, label=e.label, text="", note=note)
                if e.number >= self._count:
                    return
                self._start(e.number, ocr)  # the next page's index is this page's number
                continue
            if "end" in record:
                return
            if "recognising" in record:
                number, label = record["recognising"]
                self._page = (int(number), str(label), time.monotonic())
                self._recognising(int(number), self._count)
                continue
            number, label, text, headings = record["page"]
            if self._page is not None:  # recognition time is not reading time
                self._started += time.monotonic() - self._page[2]
                self._page = None
            if "ocr" in record:
                failed = 0
            yield PageText(
                number=int(number),
                label=str(label),
                text=str(text),
                headings=tuple((int(depth), str(title)) for depth, title in headings),
                ocr="ocr" in record,
                words=tuple((str(w[0]), *map(float, w[1:5])) for w in record.get("ocr", ())),  # type: ignore[misc]
                note=str(record.get("note", "")),
            )

    def _next(self) -> dict[str, Any]:
        """The child's next line; IngestError for its error line, its death, or its time limit;
        _PageFailed when the page being recognised takes too long or the child dies on it."""
        assert self._file is not None and self._process is not None
        line = ""
        while True:
            line += self._file.readline()
            if line.endswith("\n"):
                break
            if self._process.poll() is not None:
                line += self._file.readline()  # written just before it exited
                if line.endswith("\n"):
                    break
                if self._page is not None:
                    raise self._failed(f"recognising it needed more than {self._limits.memory_mb} MB of memory")
                raise IngestError(
                    "the PDF could not be read: the reader stopped (damaged data, or more than "
                    f"{self._limits.memory_mb} MB of memory needed — a decompression bomb?)",
                    reason="damaged",
                )
            now = time.monotonic()
            if self._page is not None:
                if now - self._page[2] > self._limits.ocr.page_timeout_s:
                    raise self._failed(
                        f"recognising its text took longer than {self._limits.ocr.page_timeout_s:g} s "
                        "(documents.ocr_page_timeout_s)"
                    )
            elif now - self._started > self._limits.timeout_s:
                raise IngestError(f"reading the PDF took longer than {self._limits.timeout_s:.0f} s", reason="timeout")
            time.sleep(0.005)
        record: dict[str, Any] = json.loads(line)
        if "error" in record:
            message, reason = record["error"]
            raise IngestError(str(message), reason=reason)
        return record

    def _failed(self, why: str) -> _PageFailed:
        assert self._page is not None
        number, label, since = self._page
        self._page = None
        self._started += time.monotonic() - since  # recognition time is not reading time
        return _PageFailed(number, label, why)

    def close(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
        if self._process is not None:
            self._process.wait()
        if self._file is not None:
            self._file.close()
        self._process, self._file = None, None


class _PageFailed(Exception):
    """The page being recognised took too long, or its recognition killed the reader."""

    def __init__(self, number: int, label: str, why: str) -> None:
        super().__init__(why)
        self.number = number
        self.label = label


def _standby_child(parser: Parser, max_pages: int, memory_mb: int) -> None:
    """Body of a waiting reader: limit memory, load the parser, then read the one path given on stdin."""
    limit_memory(memory_mb)
    with contextlib.suppress(Exception):  # a failing import is met again, and reported, by the read
        if parser == "pypdfium2":
            import pypdfium2  # noqa: F401
        else:
            import pypdf  # noqa: F401
    line = sys.stdin.buffer.readline()
    if line.strip():
        _run_child(json.loads(line), parser, max_pages, memory_mb, sys.stdout)


if __name__ == "__main__":
    _parser, _max_pages, _memory_mb = sys.argv[1:4]
    _standby_child(_parser, int(_max_pages), int(_memory_mb))  # type: ignore[arg-type]
