"""Render a cited page as an image, with the cited passage highlighted, for the page view.

PDFium runs in a small pool of resource-limited worker processes (app/documents/render_pool.py);
rendered pages are kept in a bounded in-memory cache keyed by owner, file content, page and
highlighted passage, so one user's cache entry can never answer another user's request. The web
page view takes a page as a file (`render_file`): the worker's WebP bytes written once to a private
temporary folder and served as they are, instead of an image re-encoded by the server per view.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

from loguru import logger
from PIL import Image

from app.documents.registry import DocumentRegistry
from app.documents.render_pool import RenderedPage, RenderPool
from app.errors import NotFound
from app.storage.files import FileStore

MAX_FILES = 512  # page files kept for the UI to send (about 130 KB each)
CacheKey = tuple[str, str, int, str]  # owner, document sha256, page, sha256 of the passage ("" = none)


class PageCache:
    """Least-recently-used rendered pages, bounded by their size in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self._max = max_bytes
        self._pages: OrderedDict[CacheKey, RenderedPage] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: CacheKey) -> RenderedPage | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: CacheKey, page: RenderedPage) -> None:
        if len(page.data) > self._max:
            return
        with self._lock:
            old = self._pages.pop(key, None)
            self._bytes -= len(old.data) if old else 0
            self._pages[key] = page
            self._bytes += len(page.data)
            while self._bytes > self._max:
                _, evicted = self._pages.popitem(last=False)
                self._bytes -= len(evicted.data)

    @property
    def size_bytes(self) -> int:
        return self._bytes


class PageRenderer:
    def __init__(
        self, registry: DocumentRegistry, files: FileStore, pool: RenderPool, cache: PageCache | None = None
    ) -> None:
        self._registry = registry
        self._files = files
        self._pool = pool
        self._cache = cache or PageCache(0)
        self._dir: Path | None = None  # made on the first page served as a file
        self._written: OrderedDict[Path, None] = OrderedDict()  # oldest first, at most MAX_FILES
        self._lock = threading.Lock()

    def render(self, owner: str, doc_id: str, page: int, passage: str | None = None) -> Image.Image:
        """The page (1-based) of one of `owner`'s documents; NotFound for anyone else's.
        RenderError (one line) when the page exceeds the renderer's memory or time limit."""
        return self._rendered(owner, doc_id, page, passage)[1].image()

    def render_file(self, owner: str, doc_id: str, page: int, passage: str | None = None) -> Path:
        """The same page as a WebP file in this process's private temporary folder, which keeps the
        last MAX_FILES pages served (the UI copies a file into its own cache as it sends it). With a
        highlighted passage the name carries its box in pixels, `page-N.mark-L-T-R-B.webp`: the page
        view's script reads it from the image's address to scroll the passage into sight, and it
        arrives with the image itself, never before or after it."""
        key, rendered = self._rendered(owner, doc_id, page, passage)
        # The folder says nothing about the owner or the document: a hash of the whole key.
        digest = hashlib.sha256("\0".join(map(str, key)).encode()).hexdigest()[:32]
        mark = ".mark-" + "-".join(map(str, rendered.mark)) if rendered.mark else ""
        with self._lock:
            if self._dir is None:
                self._dir = Path(tempfile.mkdtemp(prefix="pdfqa-pages-"))
            path = self._dir / digest / f"page-{page}{mark}.webp"
            self._written[path] = None
            self._written.move_to_end(path)
            old = self._written.popitem(last=False)[0] if len(self._written) > MAX_FILES else None
        if old is not None:
            shutil.rmtree(old.parent, ignore_errors=True)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            staging = path.with_name(f".{path.name}.{threading.get_ident()}")
            staging.write_bytes(rendered.data)
            os.replace(staging, path)  # a concurrent reader never sees half a file
        return path

    def _rendered(self, owner: str, doc_id: str, page: int, passage: str | None) -> tuple[CacheKey, RenderedPage]:
        doc = self._registry.get(owner, doc_id)
        if not 1 <= page <= max(doc.pages, 1):
            raise NotFound("page not found")
        key = (owner, doc.sha256, page, hashlib.sha256(passage.encode()).hexdigest() if passage else "")
        cached = self._cache.get(key)
        if cached is not None:
            return key, cached
        with self._files.local_copy(owner, doc.sha256) as path:
            # A page recognised from its image has no text layer: its passage is found among the words.
            words = self._registry.words(doc.id, page) if passage else None
            rendered = self._pool.render(path, page, passage, words)
        self._cache.put(key, rendered)
        logger.bind(user=owner).debug(
            "page rendered doc={} page={} cache_bytes={}", doc_id, page, self._cache.size_bytes
        )
        return key, rendered

    def close(self) -> None:
        self._pool.close()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
