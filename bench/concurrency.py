"""20 simultaneous questions against the running web app, with an LLM that takes 1 s per answer.

    .venv/bin/python bench/concurrency.py

Baseline: the same app with Gradio's default of one request per event at a time
(APP_SERVER__CONCURRENCY=1). Ours: the configured default (server.concurrency in config.yaml). Same
script, same machine, same questions; reports wall time of each and the ratio.
"""

from __future__ import annotations

import concurrent.futures
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gradio_client import Client, handle_file  # noqa: E402

from tests.fixtures.llm_server import FakeOpenAIServer  # noqa: E402
from tests.fixtures.server import ADMIN, running_server  # noqa: E402

QUESTIONS = 20


def run(concurrency: int | None, llm: FakeOpenAIServer) -> float:
    """Wall time of QUESTIONS simultaneous questions; concurrency None = the configured default."""
    env = {"APP_LLM__API_BASE": llm.base_url, "APP_LLM__API_KEY": "sk-bench", "APP_LLM__MODEL": "bench"}
    if concurrency is not None:
        env["APP_SERVER__CONCURRENCY"] = str(concurrency)
    with tempfile.TemporaryDirectory() as tmp, running_server(Path(tmp) / "data", env=env) as server:
        c = Client(server.url, auth=ADMIN, verbose=False)
        c.predict([handle_file(str(ROOT / "tests" / "data" / "natbib.pdf"))], api_name="/upload")
        while not any(r[5] == "ready" for r in c.predict(api_name="/documents")["data"]):
            time.sleep(0.5)
        clients = [Client(server.url, auth=ADMIN, verbose=False) for _ in range(QUESTIONS)]
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(QUESTIONS) as pool:
            list(
                pool.map(
                    lambda cl: cl.predict("Which option gives superscripts?", [], [], api_name="/ask"),
                    clients,
                )
            )
        return time.perf_counter() - started


def main() -> None:
    with FakeOpenAIServer() as llm:
        llm.latency = 1.0
        baseline = run(1, llm)
        ours = run(None, llm)
    print(
        json.dumps(
            {
                "questions": QUESTIONS,
                "llm_latency_s": 1.0,
                "baseline_concurrency_1_s": round(baseline, 2),
                "ours_default_concurrency_s": round(ours, 2),
                "speedup": round(baseline / ours, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
