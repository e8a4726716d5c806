"""Original PDFs in an S3-compatible object store (moto's S3 server on 127.0.0.1, real HTTP):
ingest, ask, page view, delete, a restart with an empty local disk, the bounded local cache,
damaged objects, unreachable stores, and owner-only local files."""

from __future__ import annotations

import os
import shutil
import stat
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from loguru import logger
from PIL import Image

from app.config import load_settings
from app.container import Container
from app.documents.ingestion import sha256_of
from app.errors import ConfigError, ServiceUnavailable
from app.models.embeddings import EmbeddingModel
from app.storage.db import utcnow
from app.storage.files import FileStore, open_file_store, owner_key
from tests.conftest import DATA, container_for, make_settings
from tests.fixtures import pdf_factory
from tests.fixtures.s3_server import SECRET_KEY, S3Server, s3_server

QUESTION = "How do I get superscript citation numbers?"


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with s3_server() as server:
        yield server


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def yellow_pixels(image: Image.Image) -> int:
    return sum(1 for r, g, b in image.getdata() if r > 230 and g > 200 and b < 150)


def test_documents_live_in_the_bucket_and_survive_an_empty_local_disk(
    s3: S3Server, tmp_path: Path, local_embedder: EmbeddingModel
) -> None:
    bucket = s3.new_bucket()
    first_disk = tmp_path / "instance-a"
    c = container_for(make_settings(first_disk, files=s3.settings(bucket)), local_embedder)
    try:
        natbib = c.ingestion.ingest_file("alice", DATA / "natbib.pdf")
        memo_pdf = pdf_factory.text_pdf(tmp_path / "memo", ["The launch code is ALPHA-ONE."], name="memo.pdf")
        memo = c.ingestion.ingest_file("alice", memo_pdf)
        assert (natbib.outcome, memo.outcome) == ("ingested", "ingested")
        natbib_key = f"pdfqa/{owner_key('alice')}/{sha256_of(DATA / 'natbib.pdf')}.pdf"
        memo_key = f"pdfqa/{owner_key('alice')}/{sha256_of(memo_pdf)}.pdf"
        assert s3.keys(bucket) == {natbib_key, memo_key}
        body = s3.client.get_object(Bucket=bucket, Key=natbib_key)["Body"].read()
        assert body == (DATA / "natbib.pdf").read_bytes()
        assert not (first_disk / "files").exists()  # no original kept on the local disk

        passage = c.retriever.retrieve("alice", QUESTION, limit=5).passages[0]
        assert passage.file == "natbib.pdf"
        image = c.pages.render("alice", passage.doc_id, passage.page, passage=passage.text)
        assert image.width > 800 and yellow_pixels(image) > 50
        assert len(list((first_disk / "cache" / "files").rglob("*.pdf"))) == 1

        c.ingestion.delete("alice", memo.doc_id)
        assert s3.keys(bucket) == {natbib_key}  # the object is gone from the bucket
    finally:
        c.close()

    # A new instance whose disk holds only the database and the vectors: no originals, no cache.
    second_disk = tmp_path / "instance-b"
    second_disk.mkdir()
    for name in os.listdir(first_disk):
        if name.startswith("app.db"):
            shutil.copy(first_disk / name, second_disk / name)
    shutil.copytree(first_disk / "qdrant", second_disk / "qdrant")
    fresh = container_for(make_settings(second_disk, files=s3.settings(bucket)), local_embedder)
    try:
        again = fresh.retriever.retrieve("alice", QUESTION, limit=5).passages[0]
        assert (again.doc_id, again.page) == (passage.doc_id, passage.page)
        rendered = fresh.pages.render("alice", again.doc_id, again.page, passage=again.text)
        assert rendered.size == image.size and yellow_pixels(rendered) > 50
        assert not (second_disk / "files").exists()
        assert len(list((second_disk / "cache" / "files").rglob("*.pdf"))) == 1
    finally:
        fresh.close()


def test_reindex_reads_originals_from_the_bucket(s3: S3Server, tmp_path: Path, local_embedder: EmbeddingModel) -> None:
    bucket = s3.new_bucket()
    c = container_for(make_settings(tmp_path / "data", files=s3.settings(bucket)), local_embedder)
    try:
        first = c.ingestion.ingest_file("alice", DATA / "natbib.pdf")
        shutil.rmtree(tmp_path / "data" / "cache")  # nothing local left to read from
        assert c.registry.requeue_ready() == 1
        c.registry.update(first.doc_id, updated_at=utcnow() - timedelta(minutes=5))  # as if its process died
        [result] = c.ingestion.resume()
        assert (result.outcome, result.chunks) == ("ingested", first.chunks)
        assert c.retriever.retrieve("alice", QUESTION, limit=5).passages[0].file == "natbib.pdf"
    finally:
        c.close()


def _store(s3: S3Server, bucket: str, cache_dir: Path, cache_bytes: int) -> FileStore:
    settings = make_settings(
        cache_dir.parent, files=s3.settings(bucket, cache_dir=cache_dir, cache_mb=cache_bytes // (1024 * 1024))
    )
    store = open_file_store(settings)
    assert store.cache is not None
    store.cache.max_bytes = cache_bytes  # below 1 MB, which the setting cannot express
    return store


def test_cache_keeps_the_most_recently_used_documents_within_its_bound(s3: S3Server, tmp_path: Path) -> None:
    bucket = s3.new_bucket()
    pdfs = [pdf_factory.text_pdf(tmp_path / f"src{i}", [f"Document number {i}. " * 40], name="d.pdf") for i in range(3)]
    shas = [sha256_of(p) for p in pdfs]
    sizes = [p.stat().st_size for p in pdfs]
    store = _store(s3, bucket, tmp_path / "cache", sum(sizes) - 1)  # room for any two, not for three
    for pdf, sha in zip(pdfs, shas, strict=True):
        store.put("alice", sha, pdf)
    for sha in shas:
        with store.local_copy("alice", sha) as local:
            assert sha256_of(local) == sha and mode(local) == 0o600
        time.sleep(0.01)  # distinct "last used" times
    assert store.cache is not None
    cached = {p.stem for p in (tmp_path / "cache").rglob("*.pdf")}
    assert cached == {shas[1], shas[2]}  # the least recently used one went
    assert store.cache.size() <= store.cache.max_bytes
    assert mode(tmp_path / "cache") == 0o700 and mode(tmp_path / "cache" / owner_key("alice")) == 0o700

    # A cached document is served from disk: it renders even with its object gone from the bucket.
    s3.client.delete_object(Bucket=bucket, Key=f"pdfqa/{owner_key('alice')}/{shas[1]}.pdf")
    with store.local_copy("alice", shas[1]) as local:
        assert sha256_of(local) == shas[1]


def test_cache_of_zero_keeps_a_file_only_while_it_is_read(s3: S3Server, tmp_path: Path) -> None:
    store = _store(s3, s3.new_bucket(), tmp_path / "cache", 0)
    sha = sha256_of(DATA / "natbib.pdf")
    store.put("bob", sha, DATA / "natbib.pdf")
    with store.local_copy("bob", sha) as local:
        assert local.exists()  # a file in use is never evicted
    assert not local.exists()


def test_a_damaged_object_is_refused_not_rendered(s3: S3Server, tmp_path: Path) -> None:
    bucket = s3.new_bucket()
    store = _store(s3, bucket, tmp_path / "cache", 10 * 1024 * 1024)
    sha = sha256_of(DATA / "natbib.pdf")
    store.put("alice", sha, DATA / "natbib.pdf")
    key = f"pdfqa/{owner_key('alice')}/{sha}.pdf"
    s3.client.put_object(Bucket=bucket, Key=key, Body=b"%PDF-1.4 something else entirely")
    with pytest.raises(ServiceUnavailable, match="damaged"), store.local_copy("alice", sha):
        pass
    assert list((tmp_path / "cache").rglob("*.pdf*")) == []  # nothing half-written left behind


def test_store_failures_are_one_line_without_secrets(s3: S3Server, tmp_path: Path) -> None:
    lines: list[str] = []
    sink = logger.add(lines.append, level="DEBUG", format="{message}")
    try:
        dead_endpoint = {**s3.settings("pdfqa-dead"), "endpoint_url": "http://127.0.0.1:9"}
        dead = open_file_store(make_settings(tmp_path / "a", files=dead_endpoint))
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable) as unreachable:
            dead.ping()
        assert time.monotonic() - started < 20  # fails, does not hang
        with pytest.raises(ServiceUnavailable):
            dead.put("alice", sha256_of(DATA / "natbib.pdf"), DATA / "natbib.pdf")

        no_bucket = open_file_store(make_settings(tmp_path / "b", files=s3.settings("pdfqa-no-such-bucket")))
        with pytest.raises(ServiceUnavailable) as missing:
            no_bucket.ping()
        with pytest.raises(ServiceUnavailable, match="no bucket 'pdfqa-no-such-bucket'"):
            no_bucket.put("alice", sha256_of(DATA / "natbib.pdf"), DATA / "natbib.pdf")
    finally:
        logger.remove(sink)
    for error in (unreachable.value, missing.value):
        assert "\n" not in str(error) and SECRET_KEY not in str(error)
    assert "not reachable" in str(unreachable.value) and "pdfqa-no-such-bucket" in str(missing.value)
    assert lines and not any(SECRET_KEY in line for line in lines)


def test_local_originals_and_database_are_owner_only(container: Container, tmp_path: Path) -> None:
    old_umask = os.umask(0o022)  # the usual default: files 0644, folders 0755 unless asked otherwise
    try:
        result = container.ingestion.ingest_file("alice", DATA / "natbib.pdf")
    finally:
        os.umask(old_umask)
    assert result.outcome == "ingested"
    data_dir = container.settings.data_dir
    original = data_dir / "files" / owner_key("alice") / f"{sha256_of(DATA / 'natbib.pdf')}.pdf"
    assert mode(original) == 0o600
    assert mode(original.parent) == 0o700 and mode(data_dir / "files") == 0o700
    assert mode(data_dir / "app.db") == 0o600


def test_store_credentials_come_from_secret_files_never_from_the_config_file(
    s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("files:\n  url: s3://pdfqa-x/files\n  secret_key: leaked-in-a-committed-file\n")
    with pytest.raises(ConfigError, match=r"files\.secret_key"):
        load_settings(config)

    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "APP_FILES__SECRET_KEY").write_text(SECRET_KEY)
    monkeypatch.setenv("APP_SECRETS_DIR", str(secrets))
    monkeypatch.setenv("APP_FILES__ACCESS_KEY", s3.settings("x")["access_key"])
    bucket = s3.new_bucket()
    files = {k: v for k, v in s3.settings(bucket).items() if k not in ("access_key", "secret_key")}
    settings = load_settings(data_dir=tmp_path / "data", files=files)
    assert settings.files.secret_key is not None and settings.files.secret_key.get_secret_value() == SECRET_KEY
    assert SECRET_KEY not in repr(settings)
    store = open_file_store(settings)
    store.ping()
    store.put("alice", sha256_of(DATA / "natbib.pdf"), DATA / "natbib.pdf")
    assert len(s3.keys(bucket)) == 1


def test_a_large_upload_streams_in_parts(s3: S3Server, tmp_path: Path) -> None:
    bucket = s3.new_bucket()
    store = _store(s3, bucket, tmp_path / "cache", 64 * 1024 * 1024)
    big = tmp_path / "big.pdf"
    big.write_bytes(os.urandom(20 * 1024 * 1024 + 12345))
    sha = sha256_of(big)
    store.put("alice", sha, big)
    head = s3.client.head_object(Bucket=bucket, Key=f"pdfqa/{owner_key('alice')}/{sha}.pdf")
    assert head["ContentLength"] == big.stat().st_size
    assert head["ETag"].strip('"').endswith("-3")  # a multipart upload of three 8 MB parts
    with store.local_copy("alice", sha) as local:
        assert sha256_of(local) == sha


def test_simultaneous_readers_of_an_uncached_document_share_one_download(
    s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(s3, s3.new_bucket(), tmp_path / "cache", 10 * 1024 * 1024)
    sha = sha256_of(DATA / "bashref.pdf")
    store.put("alice", sha, DATA / "bashref.pdf")
    downloads: list[Path] = []
    real_download = store._download

    def counted(path: str, digest: str, target: Path) -> None:
        downloads.append(target)
        real_download(path, digest, target)

    monkeypatch.setattr(store, "_download", counted)

    def read(_: int) -> str:
        with store.local_copy("alice", sha) as local:
            return sha256_of(local)

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(read, range(8))) == {sha}
    assert len(downloads) == 1


def test_a_store_that_cannot_be_set_up_is_a_configuration_error() -> None:
    # s3fs refuses two spellings of the access key at once: a backend failing in its constructor.
    with pytest.raises(ConfigError, match=r"files.url is s3://: the store could not be set up \(KeyError\)"):
        FileStore("s3://pdfqa-x/files", None, {"key": "a", "username": "b"})


def test_backup_to_the_bucket_and_restore_from_it(s3: S3Server, tmp_path: Path, local_embedder: EmbeddingModel) -> None:
    """`backup s3://…` and `restore s3://…` use the files store's endpoint and credentials (an
    S3-compatible server, not AWS); the restored workspace, on an empty disk and another bucket,
    answers with the same page and renders it."""
    originals, backups, restored_bucket = s3.new_bucket(), s3.new_bucket(), s3.new_bucket()
    c = container_for(make_settings(tmp_path / "a", files=s3.settings(originals)), local_embedder)
    try:
        assert c.ingestion.ingest_file("alice", DATA / "natbib.pdf").outcome == "ingested"
        before = c.retriever.retrieve("alice", QUESTION, limit=5).passages[0]
        manifest = c.backups.backup(f"s3://{backups}/nightly/1")
    finally:
        c.close()
    assert manifest["counts"]["files"] == 1
    assert {"nightly/1/manifest.json", "nightly/1/vectors.jsonl"} <= s3.keys(backups)

    fresh = container_for(make_settings(tmp_path / "b", files=s3.settings(restored_bucket)), local_embedder)
    try:
        fresh.backups.restore(f"s3://{backups}/nightly/1")
        after = fresh.retriever.retrieve("alice", QUESTION, limit=5).passages[0]
        assert (after.file, after.page, after.text) == (before.file, before.page, before.text)
        assert fresh.pages.render("alice", after.doc_id, after.page).width > 800
        assert len(s3.keys(restored_bucket)) == 1  # the original, back in this workspace's store
    finally:
        fresh.close()
