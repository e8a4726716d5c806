"""Render PDF pages in a few resource-limited worker processes.

PDFium is not thread-safe, and the page view renders from the server's request threads. Each
worker is a separate process (spawned, so it inherits no locks or threads) that renders one page
at a time under the same address-space limit as the PDF reader, and the caller waits at most the
reader's time limit. A worker that fails, crashes or runs out of time is killed and replaced; the
caller gets a one-line RenderError and the next page is served by a fresh worker.

A passage is found in the page's text layer; on a page whose text was recognised from its image
(OCR) there is none, so the caller passes the recognised words and their boxes instead.
"""

from __future__ import annotations

import io
import os
import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from loguru import logger
from PIL import Image, ImageDraw

from app.documents.pdf_reader import child_command, limit_memory
from app.documents.scanned import Word, passage_boxes, text_key
from app.errors import RenderError

RENDER_SCALE = 1.6  # about 115 dpi: legible on screen, small enough to send
HIGHLIGHT = (255, 214, 0, 90)  # translucent yellow
_ANCHOR = 40  # characters matched at each end of the passage
WEBP_QUALITY = 80
_START_TIMEOUT_S = 60.0  # a fresh worker imports PDFium and PIL before it takes work


@dataclass(frozen=True)
class RenderedPage:
    """A page image encoded as WebP by the render worker: small to send between processes, to keep
    in a cache and to serve, and encoded in the worker (in parallel, off the server's GIL; encoding
    in the server was 27 % of its CPU under load)."""

    size: tuple[int, int]
    data: bytes
    # Where the passage is highlighted, in image pixels (left, top, right, bottom): the page view
    # scrolls it into sight. None when no passage was asked for or it was not found on the page.
    mark: tuple[int, int, int, int] | None = None

    def image(self) -> Image.Image:
        with Image.open(io.BytesIO(self.data)) as image:
            return image.convert("RGB")


def _encode(image: Image.Image) -> bytes:
    # method 0: a third of the default's time (40 vs 120 ms for a manual page) for 20 % more bytes.
    out = io.BytesIO()
    image.save(out, "WEBP", quality=WEBP_QUALITY, method=0)
    return out.getvalue()


def render_page(path: Path, page: int, passage: str | None = None, words: list[Word] | None = None) -> RenderedPage:
    """Page `page` (1-based) of the PDF at `path`, with `passage` highlighted when found: in the
    text layer, or among `words` (a recognised page's words, boxes as fractions of the page).
    Runs PDFium in the calling process: only call it from a render worker (or a benchmark)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        pdf_page = pdf[page - 1]
        image = pdf_page.render(scale=RENDER_SCALE).to_pil().convert("RGB")
        boxes: list[tuple[float, float, float, float]] = []
        if passage and words is not None:
            width, height = image.size
            boxes = [
                (x0 * width - 2, y0 * height - 2, x1 * width + 2, y1 * height + 2)
                for x0, y0, x1, y1 in passage_boxes(words, passage)
            ]
            image = _highlight(image, boxes)
        elif passage:
            textpage = pdf_page.get_textpage()
            try:
                boxes = [_pixels(r, pdf_page.get_height()) for r in _passage_rects(textpage, passage)]
            finally:
                textpage.close()
            image = _highlight(image, boxes)
        return RenderedPage(image.size, _encode(image), _bounds(boxes))
    finally:
        pdf.close()


def _passage_rects(textpage: Any, passage: str) -> list[tuple[float, float, float, float]]:
    """PDF-space rectangles covering the passage on the page ([] when it cannot be located)."""
    raw = textpage.get_text_range()
    page_key, index = text_key(raw)
    wanted, _ = text_key(passage)
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


def _pixels(rect: tuple[float, float, float, float], height: float) -> tuple[float, float, float, float]:
    """A PDF-space rectangle (left, bottom, right, top) as image pixels (left, top, right, bottom)."""
    left, bottom, right, top = rect
    return (
        left * RENDER_SCALE - 2,
        (height - top) * RENDER_SCALE - 2,
        right * RENDER_SCALE + 2,
        (height - bottom) * RENDER_SCALE + 2,
    )


def _bounds(boxes: list[tuple[float, float, float, float]]) -> tuple[int, int, int, int] | None:
    if not boxes:
        return None
    return (
        max(0, int(min(b[0] for b in boxes))),
        max(0, int(min(b[1] for b in boxes))),
        int(max(b[2] for b in boxes)),
        int(max(b[3] for b in boxes)),
    )


def _highlight(image: Image.Image, boxes: list[tuple[float, float, float, float]]) -> Image.Image:
    if not boxes:
        return image
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for box in boxes:
        draw.rectangle(list(box), fill=HIGHLIGHT)
    return Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")


def _serve(requests: Connection, replies: Connection, memory_mb: int) -> None:
    """Body of a worker process: limit memory, then render requests until the pipe closes."""
    limit_memory(memory_mb)
    import pypdfium2  # noqa: F401  (loaded before "ready", so start-up is not billed to a render)

    replies.send(("ready", None))
    while True:
        try:
            path, page, passage, words = requests.recv()
        except (EOFError, OSError):
            return
        try:
            rendered = render_page(Path(path), page, passage, words)
            # Plain types: this module is __main__ here.
            replies.send(("ok", (rendered.size, rendered.data, rendered.mark)))
        except MemoryError:
            replies.send(("error", "memory"))
        except Exception as e:  # PDFium reports a failed allocation as a generic error
            replies.send(("error", f"{type(e).__name__}: {str(e)[:200]}"))


class _Worker:
    """One renderer process. A fresh interpreter (like the PDF reader's child), not multiprocessing:
    nothing of the server's process or its __main__ is inherited or re-imported."""

    def __init__(self, memory_mb: int) -> None:
        command, env = child_command(__name__, str(memory_mb))
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        assert self.process.stdin is not None and self.process.stdout is not None
        self.requests = Connection(os.dup(self.process.stdin.fileno()), readable=False)
        self.replies = Connection(os.dup(self.process.stdout.fileno()), writable=False)
        self.process.stdin.close()
        self.process.stdout.close()
        try:
            ready = self.replies.poll(_START_TIMEOUT_S) and self.replies.recv()[0] == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            self.kill()
            raise RenderError("the page renderer could not start")

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(5)
        self.requests.close()
        self.replies.close()


class RenderPool:
    """`workers` render processes shared by all threads; a thread waits for a free one."""

    def __init__(self, workers: int, memory_mb: int, timeout_s: float) -> None:
        self._memory_mb = memory_mb
        self._timeout_s = timeout_s
        self._size = workers
        self._idle: queue.SimpleQueue[_Worker | None] = queue.SimpleQueue()
        for _ in range(workers):
            self._idle.put(None)  # started on first use: commands that never render pay nothing
        self._closed = threading.Event()

    def render(
        self, path: Path, page: int, passage: str | None = None, words: list[Word] | None = None
    ) -> RenderedPage:
        """The page with `passage` highlighted (`words`: a recognised page's words, see render_page)."""
        if self._closed.is_set():
            raise RenderError("the page renderer is shut down")
        worker = self._idle.get()
        try:
            if self._closed.is_set():
                raise RenderError("the page renderer is shut down")
            worker = worker or _Worker(self._memory_mb)
            return self._call(worker, path, page, passage, words)
        except RenderError:
            if worker is not None:
                worker.kill()  # whatever state it is in, a fresh process serves the next page
            worker = None
            raise
        finally:
            if worker is not None and self._closed.is_set():
                worker.kill()
                worker = None
            self._idle.put(worker)

    def _call(
        self, worker: _Worker, path: Path, page: int, passage: str | None, words: list[Word] | None
    ) -> RenderedPage:
        started = time.perf_counter()
        try:
            worker.requests.send((str(path), page, passage, words))
            if not worker.replies.poll(self._timeout_s):
                logger.warning("page render timed out page={} limit_s={}", page, self._timeout_s)
                raise RenderError(f"the page took longer than {self._timeout_s:g} s to render")
            status, payload = worker.replies.recv()
        except (EOFError, OSError) as e:
            logger.warning("page render worker died page={} exit={}", page, worker.process.poll())
            raise RenderError("the page could not be rendered (the renderer stopped)") from e
        if status != "ok":
            logger.warning("page render failed page={} error={}", page, payload)
            if payload == "memory" or "alloc" in str(payload).lower():
                raise RenderError("the page needs more memory to render than allowed")
            raise RenderError("the page could not be rendered (the PDF may be damaged)")
        logger.debug("page rendered page={} ms={:.0f}", page, (time.perf_counter() - started) * 1000)
        size, data, mark = payload
        box = (int(mark[0]), int(mark[1]), int(mark[2]), int(mark[3])) if mark else None
        return RenderedPage((int(size[0]), int(size[1])), data, box)

    def close(self) -> None:
        """Stop the workers (a worker busy in another thread is stopped when it comes back)."""
        self._closed.set()
        taken = []
        for _ in range(self._size):
            try:
                taken.append(self._idle.get(timeout=self._timeout_s))
            except queue.Empty:
                break
        for worker in taken:
            if worker is not None:
                worker.kill()
            self._idle.put(None)  # a thread that still calls render() sees the pool is closed


if __name__ == "__main__":
    # The pipe to the server is the original stdout; anything a library prints goes to stderr.
    _replies = os.dup(1)
    os.dup2(2, 1)
    _serve(Connection(0, writable=False), Connection(_replies, readable=False), int(sys.argv[1]))
