"""What the claim check adds to an answer (issue 27): 20 questions of tests/data/eval/qa.jsonl (10
English on natbib.pdf, 10 Japanese on jbtxdoc.pdf) answered through ChatService against the
OpenAI-compatible test server, whose answer restates a sentence of each of the first four passages
with its [n] (plus one sentence citing the wrong passage). Each question is answered three times
(answer cache off): with the check off, with the check embedding the cited passages again (as before
the passages carried their stored vectors) and with the check reading the passages' vectors from the
index (now). The check's own time is taken in the flow (pdfqa_claim_check_seconds: its vector cache
warm with earlier answers) and cold (a fresh checker, nothing cached), before and after alike in the
same run, question by question; the claims decided differently by the two are counted.

    .venv/bin/python bench/claims_latency.py [--workspace /tmp/claims-latency] [--questions 20]

Prints the load average at start and end, per-answer figures, and the mean, median, 95th percentile
and maximum of the check's time, before and after, with their ratio. The test server answers at once: a real model
takes seconds per answer, so the share printed is an upper bound of the check's share.
"""

from __future__ import annotations

import argparse
import json
import os
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


def questions(count: int) -> list[dict[str, Any]]:
    """The first answerable questions of the evaluation set: half on natbib.pdf, half on jbtxdoc.pdf."""
    rows = [json.loads(line) for line in (DATA / "eval" / "qa.jsonl").read_text().splitlines() if line.strip()]
    half = count // 2
    asked = [r for r in rows if r["pdf"] == "natbib.pdf" and r["answerable"]][:half]
    return asked + [r for r in rows if r["pdf"] == "jbtxdoc.pdf" and r["answerable"]][: count - half]


def _check_seconds() -> float:
    return sum(s.value for m in metrics.CLAIM_CHECK_SECONDS.collect() for s in m.samples if s.name.endswith("_sum"))


def _load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _summary(name: str, times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return (
        f"claim check per answer, {name} (n={len(ms)}): mean {statistics.mean(ms):.0f} ms, median "
        f"{statistics.median(ms):.0f} ms, p95 {p95:.0f} ms, max {ms[-1]:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/claims-latency"))
    parser.add_argument("--questions", type=int, default=20)
    args = parser.parse_args()
    asked = questions(args.questions)
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} start, {_load()}")
    with FakeOpenAIServer() as llm:
        llm.reply_fn = reply
        llm_settings = {"api_base": llm.base_url, "api_key": "sk-bench", "model": "gpt-4o-mini", "max_retries": 0}
        base = {"llm": llm_settings, "cache": {"answer_ttl_s": 0}}
        c = Container(load_settings(ROOT / "config.yaml", data_dir=args.workspace, **base))
        if not c.registry.list(USER):
            for pdf in ("natbib.pdf", "jbtxdoc.pdf"):
                c.ingestion.ingest_file(USER, DATA / pdf)
        embed = c.claim_embedder.embed_documents
        services = {}
        # the same question service three times: without the check, with the check re-embedding
        # the cited passages (before), with the check reading their stored vectors (after)
        for name, claims in (("off", None), ("re-embed", AnswerClaims(embed)), ("stored", c.answer_claims)):
            c.__dict__.pop("chat", None)
            c.__dict__["answer_claims"] = claims
            services[name] = c.chat
        services["stored"].ask(USER, "warm-up: what is natbib?")  # models loaded before timing
        answer_s: dict[str, list[float]] = {name: [] for name in services}
        flow: dict[str, list[float]] = {"re-embed": [], "stored": []}
        cold: dict[str, list[float]] = {"re-embed": [], "stored": []}
        differ = total = 0
        print(
            "lang sentences claims unsupported "
            "cold_ms(re-embed, stored) flow_ms(re-embed, stored) answer_s(off, re-embed, stored)"
        )
        for r in asked:
            answers = {}
            for name, service in services.items():
                spent = _check_seconds()
                started = time.perf_counter()
                answers[name], _ = service.ask(USER, r["question"])
                answer_s[name].append(time.perf_counter() - started)
                if name in flow:
                    flow[name].append(_check_seconds() - spent)
            found = {}
            for name, stored in (("re-embed", False), ("stored", True)):  # fresh checkers: nothing cached
                started = time.perf_counter()
                found[name] = AnswerClaims(embed, stored_vectors=stored).check(USER, answers["stored"]) or []
                cold[name].append(time.perf_counter() - started)
            total += len(found["stored"])
            differ += sum(a.support != b.support for a, b in zip(found["re-embed"], found["stored"], strict=True))
            unsupported = sum(x.support == "unsupported" for x in found["stored"])
            sentences = len(SENTENCE_END.findall(answers["stored"].answer))
            print(
                f"{r['lang']} {sentences} {len(found['stored'])} {unsupported} "
                f"{cold['re-embed'][-1] * 1000:.0f} {cold['stored'][-1] * 1000:.0f} "
                f"{flow['re-embed'][-1] * 1000:.0f} {flow['stored'][-1] * 1000:.0f} "
                + " ".join(f"{answer_s[n][-1]:.2f}" for n in services)
            )
        c.close()
    print(f"\n{time.strftime('%Y-%m-%d %H:%M:%S')} end, {_load()}")
    for kind, times in (("in the flow", flow), ("cold", cold)):
        for name in ("re-embed", "stored"):
            print(_summary(f"{kind}, {name}", times[name]))
        ratio = statistics.mean(times["stored"]) / statistics.mean(times["re-embed"])
        print(f"  stored / re-embed, {kind}: mean {ratio:.2f}")
    print(f"claims decided differently with stored vectors: {differ} of {total}")
    print(
        "answer through ChatService (test server answering at once): "
        + ", ".join(f"{name} mean {statistics.mean(t):.2f} s" for name, t in answer_s.items())
    )


if __name__ == "__main__":
    main()
