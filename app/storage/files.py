"""Original PDFs, kept so pages can be rendered for citations and documents re-indexed.

Stored content-addressed per owner: <root>/<owner-hash>/<sha256>.pdf, where the root is a local
folder (files 0600 in 0700 folders) or an object store through fsspec (s3://, gs://, az://).
Uploads stream to the store block by block; reads from an object store go through a bounded local
cache (`FileCache`), checked against the sha256 the file is named by.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import fsspec
from loguru import logger

from app.config import Settings
from app.config_sections import FILE_STORE_SCHEMES
from app.errors import AppError, ConfigError, NotFound, ServiceUnavailable
from app.storage.file_cache import FileCache, private_dirs

BLOCK = 8 * 1024 * 1024  # bytes per upload part / read; S3 parts must be at least 5 MiB
CHUNK = 1024 * 1024  # bytes copied at a time into the part buffer


def owner_key(owner: str) -> str:
    """A filesystem-safe folder name that cannot collide or escape the root, whatever the username."""
    return hashlib.sha256(owner.encode()).hexdigest()[:32]


def _check_digest(sha256: str) -> None:
    if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
        raise ValueError("not a sha256 digest")


PING_CONNECT_TIMEOUT_S = 1


class FileStore:
    """put / exists / delete / local_copy of originals, on local disk or in an object store."""

    def __init__(self, url: str, cache: FileCache | None = None, storage_options: dict[str, Any] | None = None) -> None:
        self.url = url.rstrip("/")
        self.cache = cache
        self.remote = "://" in self.url and not self.url.startswith("file://")
        if not self.remote:
            self.root = self.url.removeprefix("file://")
            private_dirs(Path(self.root))
            return
        scheme = self.url.split("://", 1)[0]
        self._options = dict(storage_options or {})
        try:
            self.fs, self.root = fsspec.core.url_to_fs(self.url, **self._options)
        except ImportError as e:
            extra = FILE_STORE_SCHEMES.get(scheme, scheme)
            raise ConfigError(f"files.url is {scheme}://: install the '{extra}' extra: pip install '.[{extra}]'") from e
        except Exception as e:  # e.g. adlfs without an account name: the backend's own message may quote secrets
            logger.warning("file store setup failed scheme={} error={}", scheme, type(e).__name__)
            raise ConfigError(
                f"files.url is {scheme}://: the store could not be set up ({type(e).__name__}); "
                "check its credential variables (README: Original files in an object store)"
            ) from e
        self.root = self.root.rstrip("/")
        self.bucket = self.root.split("/", 1)[0]

    def key(self, owner: str, sha256: str) -> str:
        _check_digest(sha256)
        return f"{owner_key(owner)}/{sha256}.pdf"

    def _path(self, owner: str, sha256: str) -> str:
        return f"{self.root}/{self.key(owner, sha256)}"

    def put(self, owner: str, sha256: str, source: Path) -> None:
        target = self._path(owner, sha256)
        if not self.remote:
            self._put_local(source, Path(target))
            return
        with self._errors("upload"):
            if self.fs.exists(target):
                return
            # Written block by block (multipart on S3): an upload never sits whole in memory, and
            # the object appears only when complete.
            with open(source, "rb") as src:
                out = self.fs.open(target, "wb", block_size=BLOCK)
                try:
                    shutil.copyfileobj(src, out, CHUNK)
                except BaseException:
                    out.discard()  # abort the multipart upload: no partial object, no billed parts
                    out.closed = True  # else close() (also from __del__) would try to finish it
                    raise
                out.close()
        logger.info("file stored store={} bytes={}", self.fs.protocol[0], source.stat().st_size)

    @staticmethod
    def _put_local(source: Path, target: Path) -> None:
        if target.exists():
            return
        private_dirs(target.parent)
        # One partial file per writer: two processes storing the same upload never share one.
        partial = target.with_name(f"{target.name}.part-{os.getpid()}-{threading.get_ident()}")
        partial.unlink(missing_ok=True)  # left by a crashed process that had this pid
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
                shutil.copyfileobj(src, out, BLOCK)
            os.replace(partial, target)  # a reader never sees a half-written file
        except OSError as e:
            if e.errno in (errno.ENOSPC, errno.EDQUOT):
                logger.error("file store full path={}", target.parent.parent)
                raise ServiceUnavailable("the file storage is full; the operator has to free or add space") from e
            raise
        finally:
            partial.unlink(missing_ok=True)

    def exists(self, owner: str, sha256: str) -> bool:
        path = self._path(owner, sha256)
        if not self.remote:
            return os.path.exists(path)
        with self._errors("exists"):
            return bool(self.fs.exists(path))

    def delete(self, owner: str, sha256: str) -> None:
        path = self._path(owner, sha256)
        if not self.remote:
            Path(path).unlink(missing_ok=True)
            return
        if self.cache is not None:
            self.cache.discard(self.key(owner, sha256))
        with self._errors("delete"), suppress(FileNotFoundError):
            self.fs.rm_file(path)

    @contextmanager
    def local_copy(self, owner: str, sha256: str) -> Iterator[Path]:
        """A local path to the file: the file itself on local disk, else a cached download."""
        path = self._path(owner, sha256)
        if not self.remote:
            if not os.path.exists(path):
                raise NotFound("the original file of this document is missing")
            yield Path(path)
            return
        if self.cache is None:
            raise ConfigError("an object store needs a local cache folder")
        with self.cache.get(self.key(owner, sha256), lambda tmp: self._download(path, sha256, tmp)) as local:
            yield local

    def _download(self, path: str, sha256: str, target: Path) -> None:
        digest = hashlib.sha256()
        with self._errors("download"):
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with self.fs.open(path, "rb", block_size=BLOCK) as src, os.fdopen(fd, "wb") as out:
                for block in iter(lambda: src.read(BLOCK), b""):
                    digest.update(block)
                    out.write(block)
        if digest.hexdigest() != sha256:
            logger.error("file store checksum mismatch key={}", path.rsplit("/", 2)[-1])
            raise ServiceUnavailable("the stored original of this document is damaged (checksum mismatch)")

    def ping(self) -> None:
        if not self.remote:
            if not os.path.isdir(self.root):
                raise ServiceUnavailable("the files folder is missing")
            return
        with self._errors("ping"):
            fs = self._probe_fs()
            fs.exists(f"{self.root}/.probe")  # raises when the endpoint or the credentials fail
            if not fs.exists(self.bucket):  # says False for any failure, so asked second
                raise ServiceUnavailable(
                    f"the bucket '{self.bucket}' does not exist or these credentials cannot reach it"
                )

    def _probe_fs(self) -> Any:
        """The store as `ping` asks it: one attempt with a short connect timeout (S3), so a start or a
        readiness check reports an unreachable endpoint in about PING_CONNECT_TIMEOUT_S, not after
        the timeouts and retries that real requests get (17 s for a silent endpoint)."""
        config = self._options.get("config_kwargs")
        if config is None:
            return self.fs
        options = {
            **self._options,
            "config_kwargs": {
                **config,
                "connect_timeout": PING_CONNECT_TIMEOUT_S,
                "retries": {"max_attempts": 1, "mode": "standard"},
            },
        }
        return fsspec.core.url_to_fs(self.url, **options)[0]

    @contextmanager
    def _errors(self, op: str) -> Iterator[None]:
        """Object-store failures become one line for the user; the chained cause goes to the log."""
        try:
            yield
        except AppError:
            raise
        except FileNotFoundError as e:
            if op == "download":
                raise NotFound("the original file of this document is missing") from e
            logger.warning("file store bucket missing op={} bucket={}", op, self.bucket)
            raise ServiceUnavailable(f"the file store has no bucket '{self.bucket}' (create it first)") from e
        except PermissionError as e:
            logger.warning("file store refused op={} error={}", op, type(e).__name__)
            raise ServiceUnavailable("the file store refused access (check its credentials)") from e
        except Exception as e:  # botocore/aiohttp/google/azure errors share no base class
            logger.warning("file store failed op={} error={}", op, type(e).__name__)
            raise ServiceUnavailable(f"the file store is not reachable ({type(e).__name__})") from e


def open_file_store(settings: Settings) -> FileStore:
    """The file store that `settings.files` describes, with its cache when it is an object store."""
    if settings.files.scheme == "file":
        return FileStore(settings.files_url)
    cache = FileCache(settings.files_cache_dir, settings.files.cache_mb * 1024 * 1024)
    return FileStore(settings.files_url, cache, store_options(settings, settings.files.scheme))


def store_options(settings: Settings, scheme: str) -> dict[str, Any]:
    """fsspec options for a URL of `scheme` (the originals' store, or a backup's destination): the
    endpoint and credentials of `files.*` when the scheme is the files store's own, else none (the
    backend then takes its credentials from the environment)."""
    files = settings.files
    if scheme != files.scheme or scheme != "s3":
        return {}
    return {
        "endpoint_url": files.endpoint_url,
        "key": files.access_key,
        "secret": files.secret_key.get_secret_value() if files.secret_key else None,
        "client_kwargs": {"region_name": files.region} if files.region else {},
        # Short connect timeout and few retries: a dead endpoint must fail a request, not hang it.
        "config_kwargs": {
            "connect_timeout": 5,
            "read_timeout": files.timeout_s,
            "retries": {"max_attempts": 2, "mode": "standard"},
        },
        # Several instances write the same bucket: never answer `exists` from a stale listing.
        "use_listings_cache": False,
        "skip_instance_cache": True,
    }
