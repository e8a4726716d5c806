"""A size-bounded local cache of originals fetched from an object store (least recently used goes first).

The page view renders one page at a time and reindexing reads every document: without this each
render would download the whole PDF again. Files are owner-only (0600 in 0700 folders), replaced
atomically, and a file in use by this process is never evicted.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from loguru import logger

STALE_PART_S = 3600  # a download this old was left by a crashed process
KEY_LOCKS = 64  # striped: two documents rarely share a lock, and the number of locks stays fixed


def private_dirs(path: Path) -> None:
    """Create `path` and missing parents as owner-only folders."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)  # mkdir's mode is filtered by the umask


class FileCache:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        private_dirs(root)
        self._lock = threading.Lock()  # guards pins, hits, replacement and eviction
        self._pins: Counter[Path] = Counter()
        self._key_locks = [threading.Lock() for _ in range(KEY_LOCKS)]
        self._drop_stale_parts()

    @contextmanager
    def get(self, key: str, fetch: Callable[[Path], None]) -> Iterator[Path]:
        """A local path for `key`; on a miss `fetch(tmp)` writes the file, which is then kept."""
        path = self.root / key
        with self._key_lock(path):  # one download per file, however many readers ask at once
            with self._lock:
                hit = path.exists()
                if hit:
                    os.utime(path)  # the mtime is the "last used" of the LRU order
                    self._pins[path] += 1
            if not hit:
                private_dirs(path.parent)
                tmp = path.with_name(f"{path.name}.part-{os.getpid()}-{threading.get_ident()}")
                try:
                    fetch(tmp)
                    os.chmod(tmp, 0o600)
                    with self._lock:
                        os.replace(tmp, path)
                        self._pins[path] += 1
                finally:
                    tmp.unlink(missing_ok=True)
                logger.debug("file cache miss key={} bytes={}", key, path.stat().st_size)
        try:
            yield path
        finally:
            with self._lock:
                self._pins[path] -= 1
                if self._pins[path] <= 0:
                    del self._pins[path]
                self._evict()

    def discard(self, key: str) -> None:
        """Forget a file (its document was deleted); a reader that has it open keeps reading."""
        with self._lock:
            (self.root / key).unlink(missing_ok=True)

    def size(self) -> int:
        return sum(size for _, size, _ in self._entries())

    def _entries(self) -> list[tuple[float, int, Path]]:
        entries = []
        for path in self.root.rglob("*.pdf"):
            try:
                stat = path.stat()
            except FileNotFoundError:  # evicted by another process meanwhile
                continue
            entries.append((stat.st_mtime, stat.st_size, path))
        return entries

    def _evict(self) -> None:
        """Remove least recently used files until the cache fits (files in use stay)."""
        entries = sorted(self._entries())
        total = sum(size for _, size, _ in entries)
        removed = 0
        for _, size, path in entries:
            if total <= self.max_bytes:
                break
            if path in self._pins:
                continue
            path.unlink(missing_ok=True)
            total -= size
            removed += 1
        if removed:
            logger.debug("file cache evicted files={} bytes_left={}", removed, total)

    def _key_lock(self, path: Path) -> threading.Lock:
        return self._key_locks[hash(path) % KEY_LOCKS]

    def _drop_stale_parts(self) -> None:
        now = time.time()
        for part in self.root.rglob("*.part-*"):
            try:
                if now - part.stat().st_mtime > STALE_PART_S:
                    part.unlink()
            except FileNotFoundError:
                continue
