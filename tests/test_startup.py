"""Start-up cost of the command line: `--help` and a file refused at its first check must not import
torch, Gradio or LlamaIndex, nor load the embedding model (seconds each on a small machine)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.models.embeddings import EmbeddingModel, build_embedding_model
from tests.conftest import DATA, ROOT, make_settings
from tests.fixtures import pdf_factory
from tests.fixtures.cli import run_app

HEAVY = ["torch", "gradio", "llama_index", "sentence_transformers", "transformers", "qdrant_client", "openai"]
HEAVY += ["alembic"]  # a database already at the newest migration is opened without it

# Runs the CLI in-process inside a fresh interpreter, then reports which heavy modules it imported.
PROBE = """
import json, sys
from app.cli import main
runs = json.loads(sys.argv[1])
codes = []
for argv in runs:
    try:
        codes.append(main(argv))
    except SystemExit as e:
        codes.append(e.code)
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(sys.argv[2])))
print(json.dumps({"codes": codes, "heavy": heavy}))
"""


def probe(data_dir: Path, *runs: list[str], **settings: str) -> tuple[dict[str, object], str]:
    env = settings | {
        "APP_DATA_DIR": str(data_dir),
        "APP_CONFIG": str(ROOT / "config.yaml"),
        "PATH": "/usr/bin:/bin",
        "HF_HUB_OFFLINE": "1",
        "APP_SECRETS_DIR": str(data_dir / "none"),
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(list(runs)), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    *output, last = done.stdout.strip().splitlines()
    return {**json.loads(last), "output": output}, done.stderr


def test_help_imports_no_heavy_module(tmp_path: Path) -> None:
    helps = [["--help"], *([command, "--help"] for command in ("serve", "ingest", "ask", "eval", "reindex"))]
    result, _ = probe(tmp_path / "data", *helps)
    assert result["codes"] == [0] * len(helps)
    assert result["heavy"] == []


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("startup") / "data"
    assert run_app(data_dir, "users", "add", "alice", stdin="alices-long-password\n").returncode == 0
    return data_dir


def test_refused_files_load_neither_the_model_nor_the_index(workspace: Path, tmp_path: Path) -> None:
    junk = pdf_factory.not_a_pdf(tmp_path)
    big = pdf_factory.big_pdf(tmp_path, 2, name="big.pdf", min_bytes=200_000)
    runs = [["ingest", str(junk), str(big), "--user", "alice"], ["ingest", str(junk), "--user", "nobody"]]
    result, stderr = probe(workspace, *runs, APP_DOCUMENTS__MAX_FILE_MB="0.1")
    assert result["codes"] == [1, 1]
    assert result["heavy"] == []  # no torch, no LlamaIndex, no Qdrant client
    lines = stderr.splitlines()
    assert "failed     not_a_pdf.pdf: the file is not a PDF" in lines
    assert "failed     big.pdf: the file is 0.2 MB; the limit is 0.1 MB" in lines
    assert "error: no such user: 'nobody'" in lines
    assert "Traceback" not in stderr


def test_local_model_loads_on_first_embedding(local_embedder: EmbeddingModel) -> None:
    model = build_embedding_model(make_settings(Path("/nonexistent")).embeddings)
    assert not model.loaded
    assert model.dim == local_embedder.dim == len(local_embedder.embed_query("probe"))  # from the model's files
    assert model.max_tokens == local_embedder.max_tokens
    assert not model.loaded
    assert model.embed_query("probe") == pytest.approx(local_embedder.embed_query("probe"), abs=1e-6)
    assert model.loaded


def test_reingesting_an_unchanged_file_imports_neither_llamaindex_nor_the_model(workspace: Path) -> None:
    """Identical bytes are recognised by their hash before anything is read or embedded: the
    command imports no LlamaIndex, no model runtime and no Qdrant client (1.0 s in all here)."""
    first = run_app(workspace, "ingest", str(DATA / "natbib.pdf"), "--user", "alice")
    assert first.returncode == 0, first.stderr[-2000:]
    result, stderr = probe(workspace, ["ingest", str(DATA / "natbib.pdf"), "--user", "alice"])
    assert result["codes"] == [0], stderr[-2000:]
    assert "unchanged  natbib.pdf" in result["output"]
    assert result["heavy"] == []
