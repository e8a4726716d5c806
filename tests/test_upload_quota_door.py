"""Quotas at the door on PostgreSQL with two instances (issue 23, item 4): the `storage_mb` and
`documents` holds of accepted uploads live in the shared database, so two app instances taking
uploads of one user at the same moment never accept more than the quota between them; the holds
end with their jobs. (Over real HTTP, on SQLite: tests/test_security_round3_uploads.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.container import Container
from app.documents.jobs import IngestionQueue
from app.errors import QuotaExceeded
from app.models.embeddings import EmbeddingModel
from app.storage.db import QuotaHold
from app.storage.files import owner_key
from tests.conftest import container_for, make_settings
from tests.fixtures import pdf_factory
from tests.fixtures.postgres import fresh_database


@pytest.fixture
def instances(tmp_path: Path, local_embedder: EmbeddingModel) -> Iterator[tuple[Container, Container]]:
    """Two app instances: one PostgreSQL database, one file store, a vector store each."""
    with fresh_database() as url:
        made = [
            container_for(
                make_settings(tmp_path / name, database={"url": url}, files={"url": str(tmp_path / "files")}),
                local_embedder,
            )
            for name in ("a", "b")
        ]
        try:
            yield made[0], made[1]
        finally:
            for c in made:
                c.close()


def pdfs(folder: Path, count: int, prefix: str) -> list[Path]:
    """Small real PDFs of different sizes (2-6 KB) and contents."""
    out = []
    for i in range(count):
        path = pdf_factory.text_pdf(folder, [f"Document {prefix}{i} about lighthouses."], name=f"{prefix}{i}.pdf")
        path.write_bytes(path.read_bytes() + b"\n%" + b"x" * (1500 + 350 * i) + b"\n")
        out.append(path)
    return out


def submit_all(queues: list[IngestionQueue], owner: str, files: list[Path]) -> tuple[list[Path], list[str]]:
    def one(i: int) -> tuple[Path, str | None]:
        try:
            queues[i % 2].submit(owner, files[i], files[i].name)
            return files[i], None
        except QuotaExceeded as e:
            return files[i], str(e)

    with ThreadPoolExecutor(len(files)) as pool:
        results = list(pool.map(one, range(len(files))))
    return [p for p, refused in results if refused is None], [r for _, r in results if r is not None]


def test_two_instances_never_accept_more_than_the_quota(instances: tuple[Container, Container], tmp_path: Path) -> None:
    a, b = instances
    a.quotas.set_limits("erin", storage_mb=0.02)  # 20,971 bytes
    a.quotas.set_limits("finn", documents=3)
    queues = [IngestionQueue(c.db, c.ingestion, c.registry, c.files, workers=0) for c in (a, b)]

    files = pdfs(tmp_path / "erin", 12, "e")
    accepted, refused = submit_all(queues, "erin", files)
    stored = sum(p.stat().st_size for p in (tmp_path / "files" / owner_key("erin")).glob("*"))
    assert accepted and sum(p.stat().st_size for p in accepted) <= 0.02 * 1024 * 1024
    assert stored == sum(p.stat().st_size for p in accepted)
    assert len(refused) == len(files) - len(accepted)
    assert all(r.startswith("quota reached: storage mb is 0.02") for r in refused), refused

    accepted_docs, refused_docs = submit_all(queues, "finn", pdfs(tmp_path / "finn", 10, "f"))
    assert len(accepted_docs) == 3 and len(refused_docs) == 7
    assert all(r.startswith("quota reached: documents is 3") for r in refused_docs), refused_docs

    # The jobs run (on either instance): their holds end, what they made is kept instead.
    while queues[0].run_one() or queues[1].run_one():
        pass
    with a.db.session() as s:
        assert s.scalar(select(func.count()).select_from(QuotaHold).where(QuotaHold.id.like("upload-%"))) == 0
    assert sorted(d.name for d in a.registry.list("finn")) == sorted(p.name for p in accepted_docs)
    assert all(d.status == "ready" for d in a.registry.list("finn"))
    with pytest.raises(QuotaExceeded, match="documents is 3"):
        queues[1].submit("finn", files[0], "one-more.pdf")
    # A document deleted makes room again.
    a.ingestion.delete("finn", a.registry.list("finn")[0].id)
    assert queues[1].submit("finn", files[0], "one-more.pdf").stage == "queued"
