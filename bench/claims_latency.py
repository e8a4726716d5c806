"""What the claim check adds to an answer (issue 27): 20 questions of tests/data/eval/qa.jsonl (10
English on natbib.pdf, 10 Japanese on jbtxdoc.pdf) answered through ChatService against the
OpenAI-compatible test server, whose answer restates a sentence of each of the first four passages
with its [n] (plus one sentence citing the wrong passage). Each question is answered twice, with the
check off and on (answer cache off); the check's own time in the flow (pdfqa_claim_check_seconds: its
vector cache warm with the passages of earlier answers) and cold (a fresh checker, nothing cached).

    .venv/bin/python bench/claims_latency.py [--workspace /tmp/claims-latency] [--questions 20]

Prints per-answer figures (sentences, check ms, answer s with and without) and the mean, median,
95th percentile and maximum of the check's time. The test server answers at once: a real model
takes seconds per answer, so the share printed is an upper bound of the check's share.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import metrics  # noqa: E402
from app.answering.claims_check import AnswerClaims  # noqa: E402
from app.config import load_settings  # noqa: E402
from app.container import Container  # noqa: E402
from tests.fixtures.llm_server import FakeOpenAIServer, message_text  # noqa: E402

DATA = ROOT / "tests" / "data"
USER = "bench"
SENTENCE_END = re.compile(r"[.。](?:\s|$)")


def sources(messages: list[dict[str, Any]]) -> dict[int, str]:
    text = message_text(messages[-1]["content"]).split("\n\nQuestion:")[0]
    parts = re.split(r"(?m)^\[(\d+)\] [^\n]*\n", text)
    return {int(parts[i]): " ".join(parts[i + 1].split()) for i in range(1, len(parts) - 1, 2)}


def reply(messages: list[dict[str, Any]]) -> str:
    """A sentence of each of the first four passages with its number, and one cited wrong."""
    found = sources(messages)
    said = []
    for n in sorted(found)[:4]:
        pieces = [s.strip() for s in re.split(r"(?<=[.。．])\s*", found[n]) if len(s.strip()) >= 25]
        if pieces:
            sentence = pieces[0][:200].rstrip(".。．")
            end = "。" if re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", sentence) else "."
            said.append((n, sentence + f" [{n}]{end}"))
    if len(said) >= 2:
        (n1, first), (n2, _) = said[0], said[-1]
        said.append((n2, first.replace(f"[{n1}]", f"[{n2}]")))
    return " ".join(s for _, s in said) or "The documents do not say."


def _check_seconds() -> float:
    return sum(s.value for m in metrics.CLAIM_CHECK_SECONDS.collect() for s in m.samples if s.name.endswith("_sum"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/claims-latency"))
    parser.add_argument("--questions", type=int, default=20)
    args = parser.parse_args()
    rows = [json.loads(line) for line in (DATA / "eval" / "qa.jsonl").read_text().splitlines() if line.strip()]
    half = args.questions // 2
    asked = [r for r in rows if r["pdf"] == "natbib.pdf" and r["answerable"]][:half]
    asked += [r for r in rows if r["pdf"] == "jbtxdoc.pdf" and r["answerable"]][: args.questions - half]
    with FakeOpenAIServer() as llm:
        llm.reply_fn = reply
        llm_settings = {"api_base": llm.base_url, "api_key": "sk-bench", "model": "gpt-4o-mini", "max_retries": 0}
        base = {"llm": llm_settings, "cache": {"answer_ttl_s": 0}}
        c = Container(load_settings(ROOT / "config.yaml", data_dir=args.workspace, **base))
        if not c.registry.list(USER):
            for pdf in ("natbib.pdf", "jbtxdoc.pdf"):
                c.ingestion.ingest_file(USER, DATA / pdf)
        on = c.chat
        c.__dict__.pop("chat")
        c.__dict__["answer_claims"] = None  # the same service without the check
        off = c.chat
        on.ask(USER, "warm-up: what is natbib?")  # models loaded before timing
        checks, flow, without, with_ = [], [], [], []
        print("lang sentences claims unsupported cold_check_ms flow_check_ms answer_off_s answer_on_s")
        for r in asked:
            started = time.perf_counter()
            answer, _ = off.ask(USER, r["question"])
            without.append(time.perf_counter() - started)
            spent = _check_seconds()
            started = time.perf_counter()
            checked, _ = on.ask(USER, r["question"])
            with_.append(time.perf_counter() - started)
            flow.append(_check_seconds() - spent)
            started = time.perf_counter()
            claims = AnswerClaims(c.embedder.embed_documents).check(USER, answer) or []
            checks.append(time.perf_counter() - started)
            unsupported = sum(c.support == "unsupported" for c in checked.claims or [])
            sentences = len(SENTENCE_END.findall(answer.answer))
            print(
                f"{r['lang']} {sentences} {len(claims)} {unsupported} "
                f"{checks[-1] * 1000:.0f} {flow[-1] * 1000:.0f} {without[-1]:.2f} {with_[-1]:.2f}"
            )
        c.close()
    print()
    for name, times in (("cold", checks), ("in the flow", flow)):
        ms = sorted(t * 1000 for t in times)
        p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
        print(
            f"claim check per answer, {name} (n={len(ms)}): mean {statistics.mean(ms):.0f} ms, median "
            f"{statistics.median(ms):.0f} ms, p95 {p95:.0f} ms, max {ms[-1]:.0f} ms"
        )
    print(
        f"answer through ChatService: check off mean {statistics.mean(without):.2f} s, check on mean "
        f"{statistics.mean(with_):.2f} s (test server answering at once)"
    )


if __name__ == "__main__":
    main()
