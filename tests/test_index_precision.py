"""`embeddings.backend: auto` and the index's precision: a new index is built with the int8 export,
an index built with fp32 (before int8 was auto's choice, or with `backend: onnx`) keeps running at
fp32 without a reindex, and `reindex` on auto moves it to int8. Explicit backends keep refusing an
index of the other precision. Real model, real embedded store; the vectors themselves are compared,
not only the fingerprint's label."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from app.config import Settings
from app.container import Container
from app.errors import ConfigError
from app.storage.vector_store import TENANT_KEY
from tests.conftest import make_settings
from tests.fixtures.load import question_about, small_pdfs

BACKEND_KEY = "embeddings.backend"


def settings(data: Path, backend: str) -> Settings:
    return make_settings(data, embeddings={"backend": backend})


def stored(c: Container, tenant: str = "alice") -> dict[str, np.ndarray]:
    """A tenant's dense vectors in the index, by chunk text (the same chunks in every build)."""
    points = [p for p in c.vector_store.export_points() if p["payload"][TENANT_KEY] == tenant]
    assert points
    vectors = {json.loads(p["payload"]["_node_content"])["text"]: np.array(p["dense"]) for p in points}
    assert len(vectors) == len(points)
    return vectors


def fingerprint_of(c: Container) -> dict[str, object]:
    state = c.index_states.get(c.settings.qdrant.collection)
    assert state is not None
    return state[1]


def top_pages(c: Container, question: str) -> list[tuple[str, int]]:
    return [(p.file, p.page) for p in c.retriever.retrieve("alice", question).passages]


def close(a: dict[str, np.ndarray], b: dict[str, np.ndarray], atol: float) -> bool:
    return a.keys() == b.keys() and all(np.allclose(a[k], b[k], atol=atol) for k in a)


def test_auto_keeps_an_fp32_index_then_reindex_moves_it_to_int8_and_a_new_index_is_int8(tmp_path: Path) -> None:
    pdf = small_pdfs(tmp_path / "pdfs", 1)[0]
    question = question_about(pdf, 0)

    # An index built with fp32, as every index was before int8 became auto's choice.
    old = tmp_path / "old"
    with Container(settings(old, "onnx")) as c:
        assert c.ingestion.ingest_file("alice", pdf.path).outcome == "ingested"
        assert BACKEND_KEY not in fingerprint_of(c)
        fp32_vectors, fp32_pages = stored(c), top_pages(c, question)
    assert fp32_pages and fp32_pages[0][0] == pdf.path.name

    # auto opens it as it is: fp32 (no refusal, no reindex), and answers as before.
    with Container(settings(old, "auto")) as c:
        assert c.embedder.backend == "onnx"
        assert top_pages(c, question) == fp32_pages
        assert BACKEND_KEY not in fingerprint_of(c)
        # a document added now is embedded at fp32 too, like the rest of the index
        assert c.ingestion.ingest_file("bob", pdf.path).outcome == "ingested"
        assert close(stored(c, "bob"), fp32_vectors, 1e-5)

    # An explicit int8 backend still refuses it, and names the reindex.
    refused = r"embeddings\.backend: None -> 'onnx-int8'.*reindex"
    with Container(settings(old, "onnx-int8")) as c, pytest.raises(ConfigError, match=refused):
        _ = c.vector_store

    # A new index on auto is built with int8: its fingerprint says so and its vectors are int8's.
    new = tmp_path / "new"
    with Container(settings(new, "auto")) as c:
        assert c.ingestion.ingest_file("alice", pdf.path).outcome == "ingested"
        assert fingerprint_of(c)[BACKEND_KEY] == "onnx-int8"
        assert c.embedder.backend == "onnx-int8"
        int8_vectors, int8_pages = stored(c), top_pages(c, question)
    assert int8_vectors.keys() == fp32_vectors.keys()
    assert not close(int8_vectors, fp32_vectors, 1e-4)  # other vectors ...
    assert all(float(int8_vectors[k] @ fp32_vectors[k]) > 0.98 for k in int8_vectors)  # ... of the same model
    assert int8_pages[0] == fp32_pages[0]

    # reindex on auto moves the fp32 index to int8; then auto runs it at int8, and fp32 is refused.
    with Container(settings(old, "auto")) as c:
        result = c.reindexer.run()
        assert result.documents == 2 and not result.failed
    with Container(settings(old, "auto")) as c:
        assert fingerprint_of(c)[BACKEND_KEY] == "onnx-int8"
        assert c.embedder.backend == "onnx-int8"
        assert close(stored(c), int8_vectors, 1e-5) and close(stored(c, "bob"), int8_vectors, 1e-5)
        assert top_pages(c, question) == int8_pages
    refused = r"embeddings\.backend: 'onnx-int8' -> None.*reindex"
    with Container(settings(old, "onnx")) as c, pytest.raises(ConfigError, match=refused):
        _ = c.vector_store


def test_a_backup_of_an_fp32_index_restores_at_fp32_then_auto_keeps_it_fp32(tmp_path: Path) -> None:
    """A restore keeps the backup's vectors, so the empty workspace must be opened at their precision:
    a workspace opened on auto is a new index (int8) and the service refuses; `restore` on the command
    line, on auto, opens it at the backup's precision (as `backend: onnx` does), and auto afterwards
    runs the restored index at fp32."""
    from app.admin.backup import BackupError
    from tests.fixtures.cli import run_app

    pdf = small_pdfs(tmp_path / "pdfs", 1)[0]
    question, backup = question_about(pdf, 0), str(tmp_path / "backup")
    with Container(settings(tmp_path / "old", "onnx")) as c:
        assert c.ingestion.ingest_file("alice", pdf.path).outcome == "ingested"
        before = top_pages(c, question)
        c.backups.backup(backup)
    refused = r"embeddings\.backend: None -> 'onnx-int8'"
    with Container(settings(tmp_path / "on-auto", "auto")) as c, pytest.raises(BackupError, match=refused):
        c.backups.restore(backup)
    with Container(settings(tmp_path / "new", "onnx")) as c:
        c.backups.restore(backup)
    with Container(settings(tmp_path / "new", "auto")) as c:
        assert c.embedder.backend == "onnx" and BACKEND_KEY not in fingerprint_of(c)
        assert top_pages(c, question) == before
    done = run_app(tmp_path / "cli", "restore", backup)  # the default configuration: backend auto
    assert done.returncode == 0, done.stderr
    with Container(settings(tmp_path / "cli", "auto")) as c:
        assert c.embedder.backend == "onnx" and BACKEND_KEY not in fingerprint_of(c)
        assert top_pages(c, question) == before
