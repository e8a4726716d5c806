"""Render a cited page as an image, with the cited passage highlighted, for the page view.

PDFium runs in a small pool of resource-limited worker processes (app/documents/render_pool.py);
rendered pages are kept in a bounded in-memory cache keyed by owner, file content, page and
highlighted passage, so one user's cache entry can never answer another user's request.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from loguru import logger
from PIL import Image

from app.documents.registry import DocumentRegistry
from app.documents.render_pool import RenderedPage, RenderPool
from app.errors import NotFound
from app.storage.files import FileStore

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

    def render(self, owner: str, doc_id: str, page: int, passage: str | None = None) -> Image.Image:
        """The page (1-based) of one of `owner`'s documents; NotFound for anyone else's.
        RenderError (one line) when the page exceeds the renderer's memory or time limit."""
        doc = self._registry.get(owner, doc_id)
        if not 1 <= page <= max(doc.pages, 1):
            raise NotFound("page not found")
        key = (owner, doc.sha256, page, hashlib.sha256(passage.encode()).hexdigest() if passage else "")
        cached = self._cache.get(key)
        if cached is not None:
            return cached.image()
        with self._files.local_copy(owner, doc.sha256) as path:
            rendered = self._pool.render(path, page, passage)
        self._cache.put(key, rendered)
        logger.bind(user=owner).debug(
            "page rendered doc={} page={} cache_bytes={}", doc_id, page, self._cache.size_bytes
        )
        return rendered.image()

    def close(self) -> None:
        self._pool.close()
