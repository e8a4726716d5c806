"""files.url with gs:// and az:// (the originals in Google Cloud Storage or Azure Blob Storage).

gcsfs and adlfs are optional extras and this machine has no such service: the app reaches a store
through fsspec by the URL's protocol, so a stand-in is registered under the gs/az protocol names,
a bucket-per-folder filesystem on local disk with an object store's paths ("bucket/key", no
leading slash, as gcsfs and adlfs give them). The app's own code runs unchanged: ingest, ask, page
view through the local cache, delete, a readiness ping, and the error when the extra is missing."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import fsspec
import pytest
from fsspec.implementations.dirfs import DirFileSystem
from fsspec.implementations.local import LocalFileSystem
from fsspec.registry import _registry

from app.documents.ingestion import sha256_of
from app.errors import ConfigError, ServiceUnavailable
from app.models.embeddings import EmbeddingModel
from app.storage.files import FileStore, owner_key
from tests.conftest import DATA, container_for, make_settings

QUESTION = "How do I get superscript citation numbers?"


class _FolderBuckets(DirFileSystem):
    """Buckets as folders under `base`; paths as an object store names them."""

    base: ClassVar[Path]
    cachable = False  # a new base per test

    def __init__(self, **_options: Any) -> None:
        super().__init__(path=str(self.base), fs=LocalFileSystem(auto_mkdir=True))

    @classmethod
    def _strip_protocol(cls, path: Any) -> str:
        text = str(path)
        for name in cls.protocol:
            text = text.removeprefix(f"{name}://")
        return text.strip("/")


class _GcsStandIn(_FolderBuckets):
    protocol = ("gs", "gcs")


class _AzureStandIn(_FolderBuckets):
    protocol = ("az", "abfs")


@pytest.fixture(params=["gs", "az"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(scheme, folder of the bucket 'pdfqa-bucket'), the stand-in registered for that scheme only."""
    scheme = request.param
    cls = _GcsStandIn if scheme == "gs" else _AzureStandIn
    cls.base = tmp_path / "object-store"
    (cls.base / "pdfqa-bucket").mkdir(parents=True)
    for name in cls.protocol:
        fsspec.register_implementation(name, cls, clobber=True)
    try:
        yield scheme, cls.base / "pdfqa-bucket"
    finally:
        for name in cls.protocol:
            _registry.pop(name, None)  # back to the lazy gcsfs/adlfs entries


def test_originals_live_in_the_gs_or_az_store(
    store: tuple[str, Path], tmp_path: Path, local_embedder: EmbeddingModel
) -> None:
    scheme, bucket = store
    disk = tmp_path / "data"
    c = container_for(make_settings(disk, files={"url": f"{scheme}://pdfqa-bucket/originals"}), local_embedder)
    try:
        assert c.files.remote and c.files.fs.protocol[0] == scheme
        c.files.ping()
        done = c.ingestion.ingest_file("alice", DATA / "natbib.pdf")
        assert done.outcome == "ingested"
        stored = bucket / "originals" / owner_key("alice") / f"{sha256_of(DATA / 'natbib.pdf')}.pdf"
        assert stored.read_bytes() == (DATA / "natbib.pdf").read_bytes()  # the object, whole
        assert [p for p in bucket.rglob("*") if p.is_file()] == [stored]
        assert not (disk / "files").exists()  # nothing kept in the local files folder

        passage = c.retriever.retrieve("alice", QUESTION, limit=5).passages[0]
        assert passage.file == "natbib.pdf"
        image = c.pages.render("alice", passage.doc_id, passage.page, passage=passage.text)
        assert image.width > 800
        cached = list((disk / "cache" / "files").rglob("*.pdf"))
        assert len(cached) == 1  # read through the local cache of the object store

        c.ingestion.delete("alice", done.doc_id)
        assert not stored.exists()
    finally:
        c.close()


def test_a_damaged_object_is_refused_by_its_checksum(store: tuple[str, Path], tmp_path: Path) -> None:
    scheme, bucket = store
    files = FileStore(f"{scheme}://pdfqa-bucket/p", _cache(tmp_path))
    sha = sha256_of(DATA / "natbib.pdf")
    files.put("bob", sha, DATA / "natbib.pdf")
    stored = bucket / "p" / owner_key("bob") / f"{sha}.pdf"
    assert files.exists("bob", sha) and stored.exists()
    stored.write_bytes(b"%PDF-1.4 not the same bytes")
    with pytest.raises(ServiceUnavailable, match="checksum"), files.local_copy("bob", sha):
        pass


def test_a_missing_bucket_fails_the_ping(store: tuple[str, Path], tmp_path: Path) -> None:
    scheme, _ = store
    with pytest.raises(ServiceUnavailable, match="no-such-bucket"):
        FileStore(f"{scheme}://no-such-bucket/p", _cache(tmp_path)).ping()


@pytest.mark.parametrize(("scheme", "extra"), [("gs", "gcs"), ("az", "azure")])
def test_without_the_extra_the_error_names_it(scheme: str, extra: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("gcsfs", "adlfs"):  # as where the extra is not installed
        monkeypatch.setitem(sys.modules, module, None)
    for name in (scheme, "gcs", "abfs"):
        monkeypatch.delitem(_registry, name, raising=False)
    with pytest.raises(ConfigError, match=rf"install the '{extra}' extra"):
        FileStore(f"{scheme}://bucket/p")


def _cache(tmp_path: Path) -> Any:
    from app.storage.file_cache import FileCache

    return FileCache(tmp_path / "cache", 64 * 1024 * 1024)
