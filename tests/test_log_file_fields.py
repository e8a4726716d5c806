"""The default (plain) app.log line carries the request id and the other bound fields, as the
console does, so an error reference shown to a user is found in the file (issue 28). A fresh
process set up by the CLI's own code, as `python -m app serve` does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.fixtures.cli import ROOT

_SCRIPT = """
import argparse
from loguru import logger
from app.cli import _setup_logging
from app.config import load_settings

_setup_logging(load_settings(), argparse.Namespace(command="serve", verbose=False))
with logger.contextualize(request_id="req-7f3a9c", event="ask"):
    logger.bind(user="alice").info("question answered tokens={}", 12)
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("answer failed")
logger.complete()
"""


def test_plain_app_log_lines_carry_the_request_id_and_the_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        cwd=ROOT,
        env={
            "APP_DATA_DIR": str(tmp_path),
            "APP_CONFIG": str(ROOT / "config.yaml"),
            "APP_SECRETS_DIR": str(tmp_path / "none"),
            "APP_LOG_LEVEL": "INFO",
            "APP_LOG_JSON": "false",
            "PATH": "/usr/bin:/bin",
            "HF_HUB_OFFLINE": "1",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    text = (tmp_path / "logs" / "app.log").read_text()
    answered = next(line for line in text.splitlines() if "question answered tokens=12" in line)
    assert "'request_id': 'req-7f3a9c'" in answered and "'user': 'alice'" in answered
    assert not answered.startswith("{")  # plain text, not JSON
    failed = next(line for line in text.splitlines() if "answer failed" in line)
    assert "'request_id': 'req-7f3a9c'" in failed
    assert "Traceback (most recent call last)" in text and "ValueError: boom" in text  # in the file only
    assert "Traceback" not in done.stderr
