"""Original PDFs, kept so pages can be rendered for citations and documents re-indexed.

Stored content-addressed per owner: <root>/<owner-hash>/<sha256>.pdf. fsspec keeps the door open
to object storage (s3://, gs://) without changing callers.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import fsspec


def owner_key(owner: str) -> str:
    """A filesystem-safe folder name that cannot collide or escape the root, whatever the username."""
    return hashlib.sha256(owner.encode()).hexdigest()[:32]


class FileStore:
    def __init__(self, root: str | Path) -> None:
        self.root = str(root).rstrip("/")
        self.fs, _ = fsspec.core.url_to_fs(self.root)
        self.fs.makedirs(self.root, exist_ok=True)

    def _path(self, owner: str, sha256: str) -> str:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 digest")
        return f"{self.root}/{owner_key(owner)}/{sha256}.pdf"

    def put(self, owner: str, sha256: str, source: Path) -> None:
        target = self._path(owner, sha256)
        if self.fs.exists(target):
            return
        self.fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
        partial = target + ".part"
        self.fs.put_file(str(source), partial)
        self.fs.mv(partial, target)  # a reader never sees a half-written file

    def exists(self, owner: str, sha256: str) -> bool:
        return bool(self.fs.exists(self._path(owner, sha256)))

    def delete(self, owner: str, sha256: str) -> None:
        path = self._path(owner, sha256)
        if self.fs.exists(path):
            self.fs.rm(path)

    @contextmanager
    def local_copy(self, owner: str, sha256: str) -> Iterator[Path]:
        """A local path to the file (the file itself on local disk, else a temporary download)."""
        path = self._path(owner, sha256)
        if "file" in self.fs.protocol:
            yield Path(path)
            return
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / "doc.pdf"
            with self.fs.open(path, "rb") as src, open(local, "wb") as dst:
                shutil.copyfileobj(src, dst)
            yield local

    def ping(self) -> None:
        self.fs.ls(self.root)
