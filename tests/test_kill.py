"""SIGKILL the server while it indexes a document and streams an answer, start it again on the same
data: the document is finished exactly once, the app answers, and the killed answer's quota
reservation is given back (only what was really answered stays counted)."""

from __future__ import annotations

import re
import time
from pathlib import Path

from gradio_client import Client, handle_file

from tests.conftest import DATA
from tests.fixtures.cli import run_app
from tests.fixtures.llm_server import FakeOpenAIServer
from tests.fixtures.server import ADMIN, running_server
from tests.test_chat import reported_usage
from tests.test_web import answer_text, wait_ready

QUESTION = "How do I get superscript citation numbers?"
HOLD_TTL_S = 5 + 2 * 2 + 10


def _documents(c: Client) -> dict[str, list[object]]:
    rows = c.predict(api_name="/documents")["data"]
    names = [r[0] for r in rows]
    assert len(names) == len(set(names)), names  # never two versions of one upload
    return {str(r[0]): r for r in rows}


def test_sigkill_mid_ingestion_and_mid_answer_loses_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with FakeOpenAIServer() as llm:
        env = {
            "APP_LLM__API_BASE": llm.base_url,
            "APP_LLM__API_KEY": "sk-kill-test",
            "APP_LLM__MODEL": "gpt-4o-mini",
            "APP_LLM__MAX_RETRIES": "0",
            "APP_LLM__TIMEOUT_S": "2",
            "APP_LLM__MAX_ANSWER_S": "5",  # holds of answers expire after 5 + 2 * 2 + 10 s...
            "APP_SERVER__INGEST_LEASE_S": "4",  # ...and jobs of a dead instance are taken after 4 s
            "APP_CACHE__ANSWER_TTL_S": "0",
            "APP_QUOTAS__TOKENS_PER_DAY": "1000000",
        }
        llm.reply_fn = lambda messages: "Use the super option of natbib [1]. " * 30
        llm.stream_chunk_delay = 0.1
        with running_server(data, env=env) as first:
            c = Client(first.url, auth=ADMIN, verbose=False)
            c.predict([handle_file(str(DATA / "natbib.pdf"))], api_name="/upload")
            wait_ready(c, "natbib.pdf")
            c.predict([handle_file(str(DATA / "hyperref-doc.pdf"))], api_name="/upload")
            job = c.submit(QUESTION, [], [], api_name="/ask")
            seen = 0
            deadline = time.monotonic() + 60
            while seen < 3 and time.monotonic() < deadline:  # a few streamed updates have arrived
                seen = len(job.outputs())
                time.sleep(0.1)
            assert seen >= 3
            assert _documents(c)["hyperref-doc.pdf"][5] != "ready"  # still indexing
            first.process.kill()
            first.process.wait(10)
            killed = time.monotonic()
        llm.reset()
        llm.stream_chunk_delay = 0.0
        llm.reply_fn = lambda messages: "Use the super option [1]."
        with running_server(data, env=env) as second:
            c = Client(second.url, auth=ADMIN, verbose=False)
            wait_ready(c, "hyperref-doc.pdf", timeout=400)  # the dead instance's job was taken over
            docs = _documents(c)
            assert set(docs) == {"natbib.pdf", "hyperref-doc.pdf"} and docs["natbib.pdf"][5] == "ready"
            time.sleep(max(0.0, killed + HOLD_TTL_S + 1 - time.monotonic()))
            assert answer_text(c.predict(QUESTION, [], [], api_name="/ask")).startswith("Use the super option")
    prompt, completion = reported_usage(llm)
    shown = run_app(data, "quotas", "show", "admin")
    line = next(x for x in shown.stdout.splitlines() if "tokens_per_day" in x)
    used = int(re.search(r"used (\d+)", line).group(1))  # type: ignore[union-attr]
    # The killed answer's hold expired and was given back by the last question: only that one counts.
    assert used == prompt + completion, line
