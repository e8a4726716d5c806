"""The cost of 100 repeated questions with and without the answer cache, counted at the test server.

    .venv/bin/python bench/cache_cost.py

10 different questions about natbib.pdf, each asked 10 times by one user (each time as a new chat),
through the question service that the web app and the CLI use. Embeddings and answers both come from
the OpenAI-compatible test server (tests/fixtures/llm_server.py), which counts the requests it gets.
Baseline: the same script with the answer cache and the question-embedding cache off
(cache.answer_ttl_s: 0, cache.embedding_entries: 0). Reports requests, tokens, estimated cost at
gpt-4o-mini / text-embedding-3-small prices, wall time, and the ratios; one JSON line at the end.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from app.config import load_settings  # noqa: E402
from app.container import Container  # noqa: E402
from app.domain import Usage  # noqa: E402
from app.storage.db import UsageRecord  # noqa: E402
from tests.fixtures.llm_server import FakeOpenAIServer  # noqa: E402

PDF = ROOT / "tests" / "data" / "natbib.pdf"
QUESTIONS = [
    "Which option gives superscript citation numbers?",
    "How do I get author-year citations?",
    "What does the sort&compress option do?",
    "Which command cites a work in parentheses?",
    "How can I change the punctuation between citations?",
    "What is the difference between citet and citep?",
    "How do I cite only the year of a reference?",
    "Which option sorts multiple citations in the order of the reference list?",
    "How do I add a note before a citation?",
    "Which bibliography styles work with natbib?",
]
REPEATS = 10


def run(cached: bool, llm: FakeOpenAIServer, workdir: Path) -> dict[str, Any]:
    settings = load_settings(
        ROOT / "config.yaml",
        data_dir=workdir / ("cached" if cached else "uncached"),
        llm={"api_base": llm.base_url, "api_key": "sk-bench", "model": "gpt-4o-mini", "max_retries": 0},
        embeddings={
            "provider": "openai",
            "api_base": llm.base_url,
            "api_key": "sk-bench",
            "model": "text-embedding-3-small",
        },
        cache={"answer_ttl_s": 86_400 if cached else 0, "embedding_entries": 1024 if cached else 0},
    )
    container = Container(settings)
    try:
        container.ingestion.ingest_file("bench", PDF)
        mark = _last_record(container)  # what ingestion spent is the same in both runs: not compared
        llm.reset()
        started = time.perf_counter()
        tokens = 0
        for _ in range(REPEATS):
            for question in QUESTIONS:
                answer, _ = container.chat.ask("bench", question)
                tokens += answer.usage["total_tokens"]
        seconds = time.perf_counter() - started
        counts = llm.counts
        return {
            "questions": REPEATS * len(QUESTIONS),
            "chat_requests": counts["chat"],
            "embedding_requests": counts["embeddings"],
            "llm_tokens": tokens,
            "cost_usd": round(_cost_since(container, mark), 6),
            "seconds": round(seconds, 2),
        }
    finally:
        container.close()


def _last_record(container: Container) -> int:
    with container.db.session() as s:
        return int(s.scalar(select(func.max(UsageRecord.id))) or 0)


def _cost_since(container: Container, mark: int) -> float:
    """Estimated cost of every model call (answers and embeddings) recorded after `mark`."""
    with container.db.session() as s:
        rows = s.scalars(select(UsageRecord).where(UsageRecord.id > mark)).all()
        return sum(container.pricing.cost(r.model, Usage(r.prompt_tokens, r.completion_tokens)) or 0.0 for r in rows)


def main() -> None:
    with FakeOpenAIServer() as llm, tempfile.TemporaryDirectory() as tmp:
        llm.reply_fn = lambda messages: "Load natbib with the super option [1]; see the package options [2]."
        baseline = run(False, llm, Path(tmp))
        print("without cache:", baseline, flush=True)
        ours = run(True, llm, Path(tmp))
        print("with cache:   ", ours, flush=True)
    requests_base = baseline["chat_requests"] + baseline["embedding_requests"]
    requests_ours = ours["chat_requests"] + ours["embedding_requests"]
    result = {
        "benchmark": "cache_cost",
        "without_cache": baseline,
        "with_cache": ours,
        "requests_ratio": round(requests_base / max(1, requests_ours), 1),
        "chat_requests_ratio": round(baseline["chat_requests"] / max(1, ours["chat_requests"]), 1),
        "cost_ratio": round(baseline["cost_usd"] / ours["cost_usd"], 1) if ours["cost_usd"] else None,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
