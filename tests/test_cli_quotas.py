"""`quotas set/show` and a refused `ask` as a user runs them: real subprocesses, real PDFs, the test
LLM server over HTTP."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.conftest import DATA
from tests.fixtures.cli import run_app
from tests.fixtures.llm_server import FakeOpenAIServer

QUESTION = "How do I get superscript citation numbers?"


def test_quota_commands_and_a_refused_ask(tmp_path: Path, llm: FakeOpenAIServer) -> None:
    data = tmp_path / "data"
    assert run_app(data, "users", "add", "carol", stdin="carols-long-password\n").returncode == 0
    assert run_app(data, "ingest", str(DATA / "natbib.pdf"), "--user", "carol").returncode == 0
    changed = run_app(data, "quotas", "set", "carol", "--questions-per-day", "2", "--cost-per-month", "unlimited")
    assert changed.returncode == 0, changed.stderr
    assert "questions_per_day" in changed.stdout and "2  (user)" in changed.stdout
    assert "cost_per_month" in changed.stdout and "unlimited  (user)" in changed.stdout
    bad = run_app(data, "quotas", "set", "carol", "--documents", "lots")
    assert bad.returncode == 2 and "expected a number" in bad.stderr and "Traceback" not in bad.stderr

    llm.reply_fn = lambda messages: "Use the super option [1]."
    env = {
        "APP_LLM__API_BASE": llm.base_url,
        "APP_LLM__API_KEY": "sk-cli-test",
        "APP_LLM__MODEL": "gpt-4o-mini",
        "APP_QUOTAS__RESET_TIMEZONE": "Asia/Tokyo",
    }
    first = run_app(data, "ask", QUESTION, "--user", "carol", "--json", env=env)
    assert first.returncode == 0, first.stderr
    out = json.loads(first.stdout)
    assert out["cached"] is False and out["mode"] == "generated" and out["usage"]["total_tokens"] > 0
    second = run_app(data, "ask", QUESTION, "--user", "carol", "--json", env=env)
    assert json.loads(second.stdout)["cached"] is True and llm.counts["chat"] == 1
    assert json.loads(second.stdout)["citations"] == out["citations"]

    refused = run_app(data, "ask", "Which option sorts citations?", "--user", "carol", "--json", env=env)
    assert refused.returncode == 4
    error = json.loads(refused.stdout)["error"]
    assert error["code"] == "quota_exceeded" and error["limit"] == "questions_per_day" and error["value"] == 2
    resets = datetime.fromisoformat(error["resets_at"])
    midnight = resets.astimezone(ZoneInfo("Asia/Tokyo"))
    assert (midnight.hour, midnight.minute) == (0, 0) and resets > datetime.now(resets.tzinfo)
    assert "questions per day is 2" in refused.stderr and "Asia/Tokyo" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert llm.counts["chat"] == 1  # the refused question never reached the model

    plain = run_app(data, "ask", "Which option sorts citations?", "--user", "carol", env=env)
    assert plain.returncode == 4 and plain.stdout == "" and "quota reached" in plain.stderr

    shown = run_app(data, "quotas", "show", "carol", env=env)
    assert shown.returncode == 0
    line = next(x for x in shown.stdout.splitlines() if "questions_per_day" in x)
    assert "used 2" in line and "resets" in line
    documents = next(x for x in shown.stdout.splitlines() if x.strip().startswith("documents"))
    assert "used 1" in documents  # natbib.pdf, kept (this limit never resets)
    storage = next(x for x in shown.stdout.splitlines() if x.strip().startswith("storage_mb"))
    assert "used 0.28" in storage  # 292,843 bytes
