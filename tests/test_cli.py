"""The command line as a user runs it: real subprocesses, real PDFs, exit codes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DATA
from tests.fixtures import pdf_factory
from tests.fixtures.cli import run_app
from tests.fixtures.llm_server import FakeOpenAIServer


def app(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_app(data_dir, *args, env=env)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """natbib.pdf plus a broken file ingested for alice through the CLI."""
    data_dir = tmp_path_factory.mktemp("cli") / "data"
    docs = tmp_path_factory.mktemp("docs")
    (docs / "natbib.pdf").write_bytes((DATA / "natbib.pdf").read_bytes())
    pdf_factory.truncated_pdf(docs, name="broken.pdf")
    ghost = app(data_dir, "ingest", str(docs), "--user", "alice")
    assert ghost.returncode == 1 and "no such user: 'alice'" in ghost.stderr  # nobody could ever see them
    assert app(data_dir, "users", "add", "alice").returncode == 1  # no password on stdin: refused
    assert run_app(data_dir, "users", "add", "alice", stdin="alices-long-password\n").returncode == 0
    result = app(data_dir, "ingest", str(docs), "--user", "alice")
    assert result.returncode == 1, result.stderr  # one file failed
    lines = result.stdout.strip().splitlines()
    assert any(line.startswith("ingested") and "natbib.pdf: 26 pages" in line and "pages/s" in line for line in lines)
    # failures go to stderr; no progress bar when stderr is not a terminal
    assert not any("broken.pdf" in line for line in lines)
    assert any(
        line.startswith("failed") and "broken.pdf" in line and "damaged" in line for line in result.stderr.splitlines()
    )
    assert "Traceback" not in result.stderr and "page/s" not in result.stderr
    assert len([line for line in result.stderr.splitlines() if "broken.pdf" in line]) == 1  # once, not also logged
    assert "WARNING" not in result.stderr
    return data_dir


def test_reingest_is_unchanged(workspace: Path) -> None:
    result = app(workspace, "ingest", str(DATA / "natbib.pdf"), "--user", "alice")
    assert result.returncode == 0 and result.stdout.startswith("unchanged")


def test_ask_json_in_retrieval_only_mode(workspace: Path) -> None:
    result = app(workspace, "ask", "How do I get superscript citation numbers?", "--user", "alice", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert set(out) >= {"answer", "citations", "usage"}
    assert "Answer generation is off" in out["answer"]
    first = out["citations"][0]
    assert first["file"] == "natbib.pdf" and isinstance(first["page"], int) and 1 <= first["page"] <= 26
    assert isinstance(first["score"], float) and first["text"]
    assert first["section"] == ""  # natbib.pdf has no outline; the key is always there


def test_ask_streams_an_answer_from_the_llm(workspace: Path) -> None:
    with FakeOpenAIServer() as llm:
        llm.reply_fn = lambda messages: "Use the super option [1]."
        env = {"APP_LLM__API_BASE": llm.base_url, "APP_LLM__API_KEY": "sk-cli-test", "APP_LLM__MODEL": "t"}
        result = app(workspace, "ask", "How do I get superscript citation numbers?", "--user", "alice", env=env)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("Use the super option [1].")
        assert "Sources:" in result.stdout and "natbib.pdf, page" in result.stdout
        out = json.loads(app(workspace, "ask", "superscripts?", "--user", "alice", "--json", env=env).stdout)
        assert out["usage"]["prompt_tokens"] > 0 and out["usage"]["completion_tokens"] > 0
        assert llm.api_keys and set(llm.api_keys) == {"sk-cli-test"}


def test_failing_llm_gives_one_line_and_exit_1(workspace: Path) -> None:
    with FakeOpenAIServer() as llm:
        llm.fail_next(10, 500, endpoint="chat")
        env = {
            "APP_LLM__API_BASE": llm.base_url,
            "APP_LLM__API_KEY": "sk-cli-test",
            "APP_LLM__MAX_RETRIES": "0",
        }
        result = app(workspace, "ask", "How do I get superscript citation numbers?", "--user", "alice", env=env)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == "error: the language model service failed (HTTP 500)"
    assert "Traceback" not in result.stderr and "sk-cli-test" not in result.stderr


def test_other_user_sees_nothing(workspace: Path) -> None:
    result = app(workspace, "ask", "superscript citations", "--user", "bob", "--json")
    out = json.loads(result.stdout)
    assert out["citations"] == [] and "no ready documents" in out["answer"]


def test_second_process_on_the_embedded_store_is_told_what_to_do(workspace: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys,time; from qdrant_client import QdrantClient; "
            "c = QdrantClient(path=sys.argv[1]); print('locked', flush=True); time.sleep(60)",
            str(workspace / "qdrant"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        result = app(workspace, "ask", "superscripts", "--user", "alice")
        assert result.returncode == 3
        assert "already open in another process" in result.stderr and "qdrant.url" in result.stderr
        assert "Traceback" not in result.stderr
    finally:
        holder.kill()
        holder.wait()


def test_missing_path_and_bad_config(workspace: Path, tmp_path: Path) -> None:
    result = app(workspace, "ingest", str(tmp_path / "nope.pdf"), "--user", "alice")
    assert result.returncode == 1 and "no such file" in result.stderr
    bad = tmp_path / "config.yaml"
    bad.write_text("documents:\n  chunk_size: 600\n")
    result = app(workspace, "--config", str(bad), "ingest", str(DATA / "natbib.pdf"), "--user", "alice")
    assert result.returncode == 2 and "chunk_size is 600" in result.stderr and "Traceback" not in result.stderr


def test_switching_embedding_models_is_refused_until_reindexed(workspace: Path, tmp_path: Path) -> None:
    import shutil

    data_dir = tmp_path / "copy"
    shutil.copytree(workspace, data_dir)
    with FakeOpenAIServer() as llm:
        env = {
            "APP_EMBEDDINGS__PROVIDER": "openai",
            "APP_EMBEDDINGS__MODEL": "test-embedding",
            "APP_EMBEDDINGS__API_BASE": llm.base_url,
        }
        refused = app(data_dir, "ask", "superscripts", "--user", "alice", env=env)
        assert refused.returncode == 2 and "reindex" in refused.stderr and "Traceback" not in refused.stderr
        done = app(data_dir, "reindex", "--yes", env=env)
        assert done.returncode == 0, done.stderr
        assert "reindexed 1 documents" in done.stdout and llm.embedded_texts > 26
        out = json.loads(app(data_dir, "ask", "superscript citations", "--user", "alice", "--json", env=env).stdout)
        assert out["citations"] and out["citations"][0]["file"] == "natbib.pdf"


def test_same_file_names_in_different_folders_are_both_kept(workspace: Path, tmp_path: Path) -> None:
    for folder, text in (("a", "Meeting notes about the red valve."), ("b", "Meeting notes about the blue pump.")):
        (tmp_path / "docs" / folder).mkdir(parents=True)
        pdf_factory.text_pdf(tmp_path / "docs" / folder, [text], name="notes.pdf")
    result = app(workspace, "ingest", str(tmp_path / "docs"), "--user", "alice")
    assert result.returncode == 0, result.stderr
    listed = app(workspace, "documents", "list", "--user", "alice", "--json").stdout.splitlines()
    names = sorted(json.loads(line)["name"] for line in listed)
    assert "a/notes.pdf" in names and "b/notes.pdf" in names


def test_documents_list_and_delete_and_user_removal(workspace: Path, tmp_path: Path) -> None:
    assert run_app(workspace, "users", "add", "erin", stdin="erins-long-password\n").returncode == 0
    assert run_app(workspace, "users", "add", "frank", stdin="franks-long-password\n").returncode == 0
    # frank has a document of his own under a name erin also uses
    own = pdf_factory.text_pdf(tmp_path / "frank", ["Frank's own notes on the blue pump."], name="jbtxdoc.pdf")
    assert app(workspace, "ingest", str(own), "--user", "frank").returncode == 0
    assert (
        app(workspace, "ingest", str(DATA / "natbib.pdf"), str(DATA / "jbtxdoc.pdf"), "--user", "erin").returncode == 0
    )
    rows = [line.split("\t") for line in app(workspace, "documents", "list", "--user", "erin").stdout.splitlines()]
    assert sorted(r[-1] for r in rows) == ["jbtxdoc.pdf", "natbib.pdf"] and all(r[1] == "ready" for r in rows)
    natbib = next(r[0] for r in rows if r[-1] == "natbib.pdf")
    deleted = app(workspace, "documents", "delete", natbib, "--user", "erin")
    assert deleted.returncode == 0 and "natbib.pdf" in deleted.stdout
    again = app(workspace, "documents", "delete", natbib, "--user", "erin")
    assert again.returncode == 1 and "Traceback" not in again.stderr
    assert [
        line.split("\t")[-1] for line in app(workspace, "documents", "list", "--user", "erin").stdout.splitlines()
    ] == ["jbtxdoc.pdf"]
    # removal with transfer: frank gets erin's document, erin's account and data are gone
    moved = app(workspace, "users", "remove", "erin", "--transfer-to", "frank")
    assert moved.returncode == 0, moved.stderr
    assert "1 documents" in moved.stdout
    franks = app(workspace, "documents", "list", "--user", "frank").stdout.splitlines()
    assert sorted(line.split("\t")[-1] for line in franks) == ["jbtxdoc (from erin).pdf", "jbtxdoc.pdf"]
    # removal without transfer purges; a new account with the same name starts empty
    assert app(workspace, "users", "remove", "frank").returncode == 0
    assert run_app(workspace, "users", "add", "frank", stdin="franks-new-password\n").returncode == 0
    assert app(workspace, "documents", "list", "--user", "frank").stdout.strip() == ""
    out = json.loads(app(workspace, "ask", "Japanese typesetting", "--user", "frank", "--json").stdout)
    assert out["citations"] == []
