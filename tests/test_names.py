"""Names mean what they say (issue 27), through the real CLI: a name given again holds the content
given with it, even when those bytes equal another of the user's documents; a new name for content
the user has says which document has it; `users remove --transfer-to` reports what moved, not what
it tried to move."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from app.container import Container
from app.documents.jobs import IngestionQueue
from app.web.ui.documents_table import jobs_view
from tests.fixtures import pdf_factory
from tests.fixtures.cli import run_app


def app(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_app(data_dir, *args)


def documents(data_dir: Path, user: str) -> dict[str, str]:
    """name -> sha256 of the user's ready documents."""
    lines = app(data_dir, "documents", "list", "--user", user, "--json").stdout.splitlines()
    return {d["name"]: d["sha256"] for d in map(json.loads, lines) if d["status"] == "ready"}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("names") / "data"
    for user in ("alice", "erin", "frank"):
        assert run_app(data_dir, "users", "add", user, stdin=f"{user}s-long-password\n").returncode == 0
    return data_dir


def test_a_name_given_again_gets_its_new_content_even_when_it_duplicates_another(
    workspace: Path, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    for folder, text in (("a", "Meeting notes about the red valve."), ("b", "Meeting notes about the blue pump.")):
        (docs / folder).mkdir(parents=True)
        pdf_factory.text_pdf(docs / folder, [text], name="notes.pdf")
    assert app(workspace, "ingest", str(docs), "--user", "alice").returncode == 0
    before = documents(workspace, "alice")
    assert before["a/notes.pdf"] != before["b/notes.pdf"]
    # b/notes.pdf changes, and its new bytes are exactly those of a/notes.pdf
    shutil.copyfile(docs / "a" / "notes.pdf", docs / "b" / "notes.pdf")
    again = app(workspace, "ingest", str(docs), "--user", "alice")
    assert again.returncode == 0, again.stderr
    lines = again.stdout.splitlines()
    assert "unchanged  a/notes.pdf" in lines
    replaced = next(line for line in lines if "b/notes.pdf" in line)
    assert replaced.startswith("replaced   b/notes.pdf: 1 pages") and replaced.endswith("same content as a/notes.pdf")
    after = documents(workspace, "alice")
    assert after["b/notes.pdf"] == after["a/notes.pdf"] == before["a/notes.pdf"] and len(after) == 2
    # The old content is gone from the search, the new one is found under b/notes.pdf as well.
    asked = json.loads(app(workspace, "ask", "notes about the blue pump", "--user", "alice", "--json").stdout)
    assert {c["file"] for c in asked["citations"]} == {"a/notes.pdf", "b/notes.pdf"}
    assert not any("blue pump" in c["text"] for c in asked["citations"])
    # A new name for bytes alice has: not added, and the line says which document has them.
    copy = tmp_path / "copy.pdf"
    shutil.copyfile(docs / "a" / "notes.pdf", copy)
    dup = app(workspace, "ingest", str(copy), "--user", "alice")
    assert dup.returncode == 0, dup.stderr
    assert dup.stdout.strip() == "unchanged  copy.pdf: same content as a/notes.pdf, kept under that name only"
    assert set(documents(workspace, "alice")) == {"a/notes.pdf", "b/notes.pdf"}


def test_user_removal_reports_what_moved_and_what_was_merged(workspace: Path, tmp_path: Path) -> None:
    pages = {"x.pdf": "Erin's notes on the green filter.", "y.pdf": "Erin's notes on the grey hose."}
    files = [pdf_factory.text_pdf(tmp_path / "erin", [text], name=name) for name, text in pages.items()]
    shared = pdf_factory.text_pdf(tmp_path / "erin", ["Shared notes on the yellow gauge."], name="gauge.pdf")
    assert app(workspace, "ingest", *map(str, [*files, shared]), "--user", "erin").returncode == 0
    # frank has the gauge notes already, under a name of his own
    (tmp_path / "frank").mkdir()
    mine = shutil.copyfile(shared, tmp_path / "frank" / "my-gauge.pdf")
    assert app(workspace, "ingest", str(mine), "--user", "frank").returncode == 0
    plan = len(documents(workspace, "erin"))
    assert plan == 3
    moved = app(workspace, "users", "remove", "erin", "--transfer-to", "frank")
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.strip() == (
        "user erin removed with 0 documents and all their data; 2 documents and 0 conversations now belong to "
        "frank; 1 documents not copied: frank already has the same content (my-gauge.pdf)"
    )
    assert set(documents(workspace, "frank")) == {"my-gauge.pdf", "x.pdf", "y.pdf"}


def test_the_web_upload_queue_replaces_a_name_given_again_the_same_way(container: Container, tmp_path: Path) -> None:
    """Uploads go through the ingestion jobs (app/documents/jobs.py) to the same service: the job
    says "replaced", and the name holds the new bytes although another document has them too."""
    jobs = IngestionQueue(container.db, container.ingestion, container.registry, container.files, workers=0)
    a = pdf_factory.text_pdf(tmp_path / "a", ["Meeting notes about the red valve."], name="notes.pdf")
    b = pdf_factory.text_pdf(tmp_path / "b", ["Meeting notes about the blue pump."], name="notes.pdf")
    for path, name in ((a, "a/notes.pdf"), (b, "b/notes.pdf"), (a, "b/notes.pdf"), (a, "copy.pdf")):
        jobs.submit("alice", path, name)
        while jobs.run_one():
            pass
    assert [j.message for j in jobs.jobs("alice")] == ["ingested", "ingested", "replaced", "unchanged"]
    docs = {d.name: d.sha256 for d in container.registry.list("alice")}
    assert docs.keys() == {"a/notes.pdf", "b/notes.pdf"} and docs["a/notes.pdf"] == docs["b/notes.pdf"]
    # The upload's progress row names the document that has the bytes, as the CLI does; the job's
    # message stays the outcome word (the API's jobs route shows it).
    assert [j.duplicate_of for j in jobs.jobs("alice")] == ["", "", "", "a/notes.pdf"]
    rows = jobs_view(jobs.jobs("alice"), "en")["data"]
    assert rows[0] == ["copy.pdf", "done (same content as a/notes.pdf, kept under that name only)"]
    assert rows[1] == ["b/notes.pdf", "done (replaced the previous version)"]
    japanese = jobs_view(jobs.jobs("alice"), "ja")["data"][0][1]
    assert japanese == "完了（a/notes.pdf と同じ内容のため、その名前でのみ保存）"
    # the same bytes under the same name again: plainly unchanged, no other document to name
    jobs.submit("alice", a, "a/notes.pdf")
    while jobs.run_one():
        pass
    assert jobs_view(jobs.jobs("alice"), "en")["data"][0] == ["a/notes.pdf", "done (already uploaded)"]
