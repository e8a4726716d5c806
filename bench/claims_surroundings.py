"""What reading the text around the cited passages adds to retrieval (issue 27): for the claim check,
retrieval reads the chunk before and after each passage the model will read, by point id in one read
per tenant (`Retriever._add_surroundings`). This times retrieval of 20 questions of
tests/data/eval/qa.jsonl (10 English on natbib.pdf, 10 Japanese on jbtxdoc.pdf) with and without
that read, alternating which goes first, each question `--repeat` times, in the same run; and checks
that every passage got its surroundings.

    .venv/bin/python bench/claims_surroundings.py [--workspace /tmp/claims-surroundings] [--repeat 5]

Prints the load average at start and end, the mean and median of retrieval with and without the
read, their ratio, and the read's own time (mean, p95).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.answering.retrieval import Retriever  # noqa: E402
from app.config import load_settings  # noqa: E402
from app.container import Container  # noqa: E402
from bench.claims_latency import questions  # noqa: E402

DATA = ROOT / "tests" / "data"
USER = "bench"


def _load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/claims-surroundings"))
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    asked = questions(args.questions)
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} start, {_load()}")
    c = Container(load_settings(ROOT / "config.yaml", data_dir=args.workspace))
    if not c.registry.list(USER):
        for pdf in ("natbib.pdf", "jbtxdoc.pdf"):
            c.ingestion.ingest_file(USER, DATA / pdf)
    retriever = c.retriever
    read = Retriever._add_surroundings
    read_s: list[float] = []

    def timed(self: Retriever, asker: str, passages: list) -> None:  # type: ignore[type-arg]
        started = time.perf_counter()
        read(self, asker, passages)
        read_s.append(time.perf_counter() - started)

    retriever.retrieve(USER, "warm-up: what is natbib?")
    with_read: list[float] = []
    without: list[float] = []
    passages = found = 0
    for i in range(args.repeat):
        for j, r in enumerate(asked):
            for on in (True, False) if (i + j) % 2 == 0 else (False, True):
                Retriever._add_surroundings = timed if on else (lambda self, asker, passages: None)  # type: ignore[method-assign]
                started = time.perf_counter()
                result = retriever.retrieve(USER, r["question"])
                (with_read if on else without).append(time.perf_counter() - started)
                if on and i == 0:
                    passages += len(result.passages)
                    found += sum(bool(p.surroundings) for p in result.passages)
    Retriever._add_surroundings = read  # type: ignore[method-assign]
    c.close()
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} end, {_load()}")
    for name, times in (("with the read", with_read), ("without", without)):
        ms = [t * 1000 for t in times]
        mean, median = statistics.mean(ms), statistics.median(ms)
        print(f"retrieval {name} (n={len(ms)}): mean {mean:.1f} ms, median {median:.1f} ms")
    print(f"  with / without: mean {statistics.mean(with_read) / statistics.mean(without):.3f}")
    ms = sorted(t * 1000 for t in read_s)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    print(f"the read itself (n={len(ms)}): mean {statistics.mean(ms):.2f} ms, p95 {p95:.2f} ms")
    print(f"passages with the text around them: {found} of {passages}")


if __name__ == "__main__":
    main()
