"""Settings of the log set-up no other test touches: `log_json` (every console, file and stdout line
a JSON object with its fields) and `audit_retention_days` (rotated audit files older than that are
removed when the audit log rotates). Each run is a fresh process set up by the CLI's own code, from
the settings read from the environment, as `python -m app serve` does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.fixtures.cli import ROOT

# The CLI's set-up (app/cli/__init__.py), then a few records of each kind.
_SCRIPT = """
import argparse, sys
from loguru import logger
from app.audit import audit
from app.cli import _setup_logging
from app.config import load_settings

settings = load_settings()
_setup_logging(settings, argparse.Namespace(command="serve", verbose=False))
mode = sys.argv[1]
if mode == "records":
    logger.bind(user="alice").info("question answered tokens={}", 12)
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("ingest failed doc={}", "d1")
    audit("user.create", "admin", target="bob", quota=3)
else:  # past the audit log's 10 MB rotation
    for i in range(1100):
        audit("document.upload", "alice", target=f"doc{i}", note="x" * 10_000)
logger.complete()
"""


def _run(data_dir: Path, mode: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, mode],
        cwd=ROOT,
        env={
            "APP_DATA_DIR": str(data_dir),
            "APP_CONFIG": str(ROOT / "config.yaml"),
            "APP_SECRETS_DIR": str(data_dir / "none"),
            "APP_LOG_LEVEL": "INFO",
            "PATH": "/usr/bin:/bin",
            "HF_HUB_OFFLINE": "1",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _json_lines(text: str) -> list[dict[str, object]]:
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines
    return [json.loads(line) for line in lines]  # each one a whole JSON object, or this raises


def test_log_json_makes_every_line_a_json_object_with_its_fields(tmp_path: Path) -> None:
    done = _run(tmp_path, "records", {"APP_LOG_JSON": "true"})

    console = _json_lines(done.stderr)
    by_message = {r["record"]["message"]: r["record"] for r in console}  # type: ignore[index]
    answered = by_message["question answered tokens=12"]
    assert answered["level"]["name"] == "INFO"  # type: ignore[index]
    assert answered["extra"]["user"] == "alice"  # type: ignore[index]
    assert {"time", "name", "function", "line"} <= set(answered)  # type: ignore[arg-type]
    failed = by_message["ingest failed doc=d1"]
    assert failed["level"]["name"] == "ERROR"  # type: ignore[index]
    assert failed["exception"]["type"] == "ValueError"  # type: ignore[index]
    assert not any(r["record"]["extra"].get("audit") for r in console)  # type: ignore[index]  # audit: stdout only

    file_records = [r["record"] for r in _json_lines((tmp_path / "logs" / "app.log").read_text())]
    assert {"question answered tokens=12", "ingest failed doc=d1"} <= {r["message"] for r in file_records}  # type: ignore[index]

    (audit_line,) = _json_lines(done.stdout)  # stdout carries the audit events, as encoded
    assert audit_line["event"] == "user.create" and audit_line["actor"] == "admin"
    assert audit_line["target"] == "bob" and audit_line["quota"] == 3 and audit_line["outcome"] == "ok"
    assert "time" in audit_line
    assert _json_lines((tmp_path / "logs" / "audit.log").read_text()) == [audit_line]


def test_without_log_json_the_console_is_plain_text(tmp_path: Path) -> None:
    done = _run(tmp_path, "records", {"APP_LOG_JSON": "false"})
    line = next(x for x in done.stderr.splitlines() if "question answered" in x)
    assert not line.startswith("{") and "| INFO" in line
    assert done.stdout == ""  # audit events only in their file


def test_rotated_audit_files_older_than_the_retention_are_removed(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    day = 86_400
    ages = {"audit.2020-01-01_00-00-00_000000.log": 45, "audit.2020-02-01_00-00-00_000000.log": 20}
    for name, days in ages.items():
        (logs / name).write_text('{"event": "old"}\n')
        then = time.time() - days * day
        os.utime(logs / name, (then, then))
    unrelated = logs / "other.log"  # not the audit log's: never touched
    unrelated.write_text("x\n")
    os.utime(unrelated, (time.time() - 400 * day,) * 2)

    _run(tmp_path, "rotate", {"APP_AUDIT_RETENTION_DAYS": "30"})

    names = {p.name for p in logs.iterdir()}
    assert "audit.2020-01-01_00-00-00_000000.log" not in names  # 45 days > 30
    assert "audit.2020-02-01_00-00-00_000000.log" in names  # 20 days: kept
    assert "other.log" in names
    rotated_now = [n for n in names if n.startswith("audit.") and n not in ages and n != "audit.log"]
    assert len(rotated_now) == 1, names  # the rotation happened, and its file is kept
    assert (logs / "audit.log").exists()
