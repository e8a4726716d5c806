"""Load on the running web app over real HTTP on 127.0.0.1 (issues 12 and 14): many signed-in users
at once, against a server of its own with a test LLM that takes --llm-latency seconds per reply.

    .venv/bin/python bench/load.py                         # mixed, 50 users, 60 s
    .venv/bin/python bench/load.py --scenario ask          # everyone asking: p95 end-to-end
    .venv/bin/python bench/load.py --scenario ask+ingest   # the same, then again while one user ingests 500 pages
    .venv/bin/python bench/load.py --scenario idle         # open tabs doing nothing: server CPU
    .venv/bin/python bench/load.py --scenario all          # the four, one after another

Scenarios (each with a fresh server, data folder and users; the users are created with
`python -m app users add`, then each signs in, uploads a 2-page PDF cut from the manuals in
tests/data, waits until it is ready, asks one question and views one page before the clock starts):

  mixed       for --seconds: questions (new and follow-ups), cited page views, document lists,
              refreshes, and a second upload by every other user; 0.3-1.5 s between actions.
  ask         for --seconds: every user asks, reads nothing, asks again (0-0.5 s between), each
              question a new conversation (one LLM call each). Target: p95 of the answer <= 2 s.
  ask+ingest  `ask` for --seconds, then `ask` again for --seconds while one more user ingests a
              500-page PDF of real manual pages. Target: p95 during ingestion <= 1.2 x the first.
  idle        server CPU over --idle-seconds with nobody signed in, then with --users signed-in
              tabs whose only traffic is the page's one-second refresh timer. Target: < 5 % of a core.

Every scenario checks, and exits 1 when one fails: no server error (HTTP 5xx, an unexpected error
in an event, a connection failure or timeout); the server's memory (its process, RSS) grew by at
most --max-rss-growth-mb from the end of the set-up to the end; and the server's own database
(documents, conversations and their lengths, questions counted, LLM calls recorded as usage) holds
exactly what the users sent, cross-checked for two users with `python -m app documents list` and
`python -m app quotas show`. The latency and CPU targets are reported; --strict makes a miss fail too.
Nothing is sent anywhere but 127.0.0.1; each phase stops after its time, every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures import load  # noqa: E402
from tests.fixtures.load import LoadTarget, MemoryWatch, Recorder, Run  # noqa: E402

SCENARIOS = ("mixed", "ask", "ask+ingest", "idle")


def user_names(n: int, prefix: str = "user") -> list[str]:
    return [f"{prefix}{i:02d}" for i in range(n)]


def client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ---- scenarios --------------------------------------------------------------------------------


def scenario_mixed(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    users = user_names(args.users)
    pdfs = load.small_pdfs(work / "pdfs", 2 * len(users))
    with load.load_server(work / "data", args.llm_latency, users) as target:
        run = load.run_mixed(target, users, args.seconds, pdfs, seed=args.seed, settle_s=args.settle_seconds)
        cross_check(target, run, users)
    return report("mixed", args, run, {})


def profiler(pid: int, seconds: float, out: str | None) -> subprocess.Popen[bytes] | None:
    """py-spy sampling the server for the timed phase only (`--profile`; set-up excluded)."""
    if not out:
        return None
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        raise SystemExit("--profile needs py-spy (pip install py-spy)")
    command = [spy, "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "50", "-f", "raw", "-o", out]
    return subprocess.Popen([*command, "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def asking_phase(
    runner: asyncio.Runner,
    pid: int,
    tabs: list[load.Tab],
    seconds: float,
    seed: int,
    pdfs: list[load.Pdf],
    profile: str | None = None,
    think: tuple[float, float] = (0.0, 0.5),
) -> tuple[list[load.Sample], float, dict[str, Any]]:
    """Every tab asks for `seconds`; returns the samples, the phase's length and its CPU figures."""
    recorder = Recorder()
    for tab in tabs:
        tab.recorder = recorder

    async def main() -> float:
        started = time.monotonic()
        until = started + seconds
        await asyncio.gather(
            *(
                load.asking_user(t, p, until, random.Random(seed * 1000 + i), think)
                for i, (t, p) in enumerate(zip(tabs, pdfs, strict=False))
            )
        )
        return time.monotonic() - started

    mark = load.CpuMark.now(pid)
    spy = profiler(pid, seconds, profile)
    elapsed = runner.run(main())
    if spy is not None:
        spy.wait(30)
    return recorder.samples, elapsed, mark.until(load.CpuMark.now(pid))


def scenario_ask(args: argparse.Namespace, work: Path, ingest: bool) -> dict[str, Any]:
    users = user_names(args.users)
    everyone = users + (["ingester"] if ingest else [])
    pdfs = load.small_pdfs(work / "pdfs", len(users))
    big = load.long_pdf(work / "pdfs", args.ingest_pages) if ingest else None
    with (
        load.load_server(work / "data", args.llm_latency, everyone) as target,
        MemoryWatch(target.pid) as watch,
        asyncio.Runner() as runner,  # one event loop: the tabs' connections belong to it
    ):
        setup, tabs = set_up(runner, target, users, pdfs, args.settle_seconds)
        start_rss, begun = watch.sample(), time.monotonic()
        think = (args.think[0], args.think[1])
        plain, elapsed, cpu = asking_phase(runner, target.pid, tabs, args.seconds, args.seed, pdfs, args.profile, think)
        extra: dict[str, Any] = {**cpu}
        extra["answers_per_s"] = round(sum(1 for x in plain if x.kind == "ask" and x.ok) / elapsed, 2)
        samples = plain
        if big is not None:
            ingester = load.Tab(target.server.url, "ingester", Recorder())
            started = time.monotonic()
            runner.run(start_ingestion(ingester, big))
            extra["ingest_started_after_s"] = round(time.monotonic() - started, 1)
            during, elapsed2, cpu2 = asking_phase(
                runner, target.pid, tabs, args.seconds, args.seed + 1, pdfs, think=think
            )
            extra["during_ingest"] = cpu2
            status = doc_status(target, "ingester")
            extra["ingest_status_at_end_of_phase"] = status
            p95_plain = load.percentile([s.seconds for s in plain if s.kind == "ask" and s.ok], 0.95)
            p95_during = load.percentile([s.seconds for s in during if s.kind == "ask" and s.ok], 0.95)
            extra["p95_ask_plain_s"] = round(p95_plain, 3)
            extra["p95_ask_during_ingest_s"] = round(p95_during, 3)
            extra["p95_ratio"] = round(p95_during / p95_plain, 3)
            extra["target_ingest_ratio_le_1.2"] = p95_during <= 1.2 * p95_plain
            extra["plain"] = load.summary(plain)
            samples = plain + during + ingester.recorder.samples
            elapsed += elapsed2
            tabs.append(ingester)
        waited = load.settle(target.server.data_dir, args.settle_seconds)
        end_rss = watch.sample()
        if big is not None:
            extra["ingest_total_s"] = round(time.monotonic() - started, 1)
        peak = (max(s[1] for s in watch.samples), max(s[2] for s in watch.samples))
        run = Run(samples, setup, elapsed, start_rss, end_rss, peak)
        run.mismatches = load.mismatches(target.server.data_dir, tabs, target.llm.counts["chat"])
        run.notes = {
            "settle_s": round(waited, 1),
            "llm_calls": target.llm.counts["chat"],
            "rss_trace_mb": watch.trace(begun),
        }
        cross_check(target, run, users)
    p95 = load.percentile([s.seconds for s in (plain if ingest else samples) if s.kind == "ask" and s.ok], 0.95)
    extra["target_p95_le_2s"] = p95 <= 2.0
    return report("ask+ingest" if ingest else "ask", args, run, extra)


async def start_ingestion(tab: load.Tab, pdf: Path) -> None:
    """The ingesting user signs in and uploads; returns once its pages are being read or embedded."""
    await tab.open()
    await tab.on_load()
    if not await tab.upload(pdf, pdf.name):
        raise RuntimeError("the long PDF's upload failed")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        rows = {r[0]: r for r in await tab.documents()}
        if pdf.name in rows and (rows[pdf.name][1] or rows[pdf.name][5] != "queued"):
            break
        await asyncio.sleep(0.5)
    await tab.close()


async def close_all(tabs: list[load.Tab]) -> None:
    await asyncio.gather(*(t.close() for t in tabs))


def doc_status(target: LoadTarget, user: str) -> dict[str, str]:
    return load.database_counts(target.server.data_dir).get(user, {}).get("documents", {})


def set_up(
    runner: asyncio.Runner, target: LoadTarget, users: list[str], pdfs: list[load.Pdf], timeout: float
) -> tuple[list[load.Sample], list[load.Tab]]:
    recorder = Recorder()

    async def main() -> list[load.Tab]:
        tabs = await load.open_tabs(target.server.url, users, recorder)
        await load.upload_and_wait(tabs, pdfs[: len(users)], timeout)
        return tabs

    return recorder.samples, runner.run(main())


def scenario_idle(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    users = user_names(args.users)
    pdfs = load.small_pdfs(work / "pdfs", len(users))
    with (
        load.load_server(work / "data", args.llm_latency, users) as target,
        MemoryWatch(target.pid) as watch,
        asyncio.Runner() as runner,
    ):
        setup, tabs = set_up(runner, target, users, pdfs, args.settle_seconds)
        runner.run(close_all(tabs))  # the set-up's tabs are gone: only the idle tabs remain
        time.sleep(5)  # let the set-up's work drain
        start_rss = watch.sample()
        cpu0, main0, t0 = load.cpu_seconds(target.pid), load.cpu_seconds(target.pid, False), time.monotonic()
        time.sleep(args.idle_seconds)
        baseline = 100 * (load.cpu_seconds(target.pid) - cpu0) / (time.monotonic() - t0)
        baseline_main = 100 * (load.cpu_seconds(target.pid, False) - main0) / (time.monotonic() - t0)

        recorder = Recorder()

        async def main() -> tuple[float, float, float, float]:
            idle_tabs = [load.Tab(target.server.url, u, recorder) for u in users]
            await asyncio.gather(*(t.open() for t in idle_tabs))
            await asyncio.gather(*(t.on_load() for t in idle_tabs))
            warm = 3.0
            until = time.monotonic() + warm + args.idle_seconds
            ticking = asyncio.gather(*(load.idle_tab(t, until) for t in idle_tabs))
            await asyncio.sleep(warm)
            cpu1, t1, client1 = load.cpu_seconds(target.pid), time.monotonic(), client_cpu()
            main1 = load.cpu_seconds(target.pid, False)
            await asyncio.sleep(args.idle_seconds)
            cpu2, t2, client2 = load.cpu_seconds(target.pid), time.monotonic(), client_cpu()
            main2 = load.cpu_seconds(target.pid, False)
            await ticking
            await asyncio.gather(*(t.close() for t in idle_tabs))
            tabs.extend(idle_tabs)
            wall = t2 - t1
            return 100 * (cpu2 - cpu1) / wall, 100 * (main2 - main1) / wall, 100 * (client2 - client1) / wall, wall

        with_tabs, with_tabs_main, client, elapsed = runner.run(main())
        end_rss = watch.sample()
        peak = (max(s[1] for s in watch.samples), max(s[2] for s in watch.samples))
        run = Run(recorder.samples, setup, elapsed, start_rss, end_rss, peak)
        run.mismatches = load.mismatches(target.server.data_dir, tabs, target.llm.counts["chat"])
        run.notes = {"llm_calls": target.llm.counts["chat"], "rss_trace_mb": watch.trace(0)}
        cross_check(target, run, users)
    extra = {
        "cpu_idle_no_tabs_pct": round(baseline, 2),
        "cpu_with_tabs_pct": round(with_tabs, 2),
        "cpu_tabs_cost_pct": round(with_tabs - baseline, 2),
        "cpu_idle_no_tabs_server_process_pct": round(baseline_main, 2),
        "cpu_with_tabs_server_process_pct": round(with_tabs_main, 2),
        "load_script_cpu_pct": round(client, 1),
        "target_tabs_lt_5pct": with_tabs - baseline < 5.0,
    }
    return report("idle", args, run, extra)


def cross_check(target: LoadTarget, run: Run, users: list[str]) -> None:
    """Two users' documents and questions through the app's own CLI agree with the database."""
    counts = load.database_counts(target.server.data_dir)
    for user in (users[0], users[-1]):
        documents, questions = load.cli_counts(target.server.data_dir, user)
        stored = counts.get(user, {"documents": {}, "questions": 0})
        if documents != len(stored["documents"]) or questions != stored["questions"]:
            run.mismatches.append(
                f"{user}: the CLI shows {documents} documents, {questions:g} questions; the database {stored}"
            )


# ---- report -----------------------------------------------------------------------------------


def report(name: str, args: argparse.Namespace, run: Run, extra: dict[str, Any]) -> dict[str, Any]:
    growth = run.rss_end[0] - run.rss_start[0]
    result: dict[str, Any] = {
        "scenario": name,
        "users": args.users,
        "seconds": round(run.seconds, 1),
        "llm_latency_s": args.llm_latency,
        "think_s": list(args.think),
        "requests": len(run.samples),
        "errors": run.errors,
        "server_errors": run.server_errors,
        "rss_mb": {
            "start": round(run.rss_start[0]),
            "end": round(run.rss_end[0]),
            "peak": round(run.rss_peak[0]),
            "with_workers_start": round(run.rss_start[1]),
            "with_workers_end": round(run.rss_end[1]),
        },
        "rss_growth_mb": round(growth),
        "mismatches": run.mismatches,
        **run.notes,
        **extra,
        "by_kind": load.summary(run.samples),
    }
    result["checks_pass"] = (
        run.server_errors == 0 and run.errors == 0 and not run.mismatches and growth <= args.max_rss_growth_mb
    )
    print_table(result, run)
    return result


def print_table(result: dict[str, Any], run: Run) -> None:
    print(
        f"\n== {result['scenario']}: {result['users']} users, {result['seconds']} s, LLM {result['llm_latency_s']} s,"
        f" think {result['think_s'][0]:g}-{result['think_s'][1]:g} s"
    )
    print(f"{'request':<14}{'count':>7}{'errors':>8}{'server':>8}{'p50 s':>9}{'p95 s':>9}{'max s':>9}")
    for kind, row in result["by_kind"].items():
        print(
            f"{kind:<14}{row['count']:>7}{row['errors']:>8}{row['server_errors']:>8}"
            f"{row['p50_s']:>9.3f}{row['p95_s']:>9.3f}{row['max_s']:>9.3f}"
        )
    rss = result["rss_mb"]
    print(f"server RSS MB: start {rss['start']} end {rss['end']} peak {rss['peak']} (growth {result['rss_growth_mb']})")
    for key, value in result.items():
        if key.startswith(
            ("cpu_", "load_script", "p95_", "target_", "ingest_", "settle", "llm_calls", "rss_trace", "server_cpu")
        ) or key in ("machine_load1", "during_ingest", "setup_s", "answers_per_s"):
            print(f"{key}: {value}")
    for sample in [s for s in run.samples + run.setup if not s.ok][:10]:
        print(f"error: {sample.kind} {sample.user}: {sample.error}")
    for line in result["mismatches"][:20]:
        print(f"mismatch: {line}")
    print(f"checks: {'pass' if result['checks_pass'] else 'FAIL'}", flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="bench/load.py", description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.epilog = __doc__.split("\n\n", 2)[2]
    p.add_argument("--scenario", choices=(*SCENARIOS, "all"), default="mixed", help="what the users do (default mixed)")
    p.add_argument("--users", type=int, default=50, help="simultaneous users (default 50)")
    p.add_argument("--seconds", type=float, default=60, help="length of each timed phase (default 60)")
    p.add_argument("--llm-latency", type=float, default=1.0, help="seconds the test LLM waits before each reply (1.0)")
    p.add_argument("--ingest-pages", type=int, default=500, help="pages of the PDF ingested in ask+ingest (500)")
    p.add_argument("--idle-seconds", type=float, default=30, help="CPU measuring window of `idle` (30)")
    p.add_argument("--max-rss-growth-mb", type=float, default=400, help="memory bound of the server process (400)")
    p.add_argument("--settle-seconds", type=float, default=900, help="longest wait for ingestion to finish (900)")
    p.add_argument("--seed", type=int, default=1, help="random seed of the users' choices")
    p.add_argument("--strict", action="store_true", help="also exit 1 when a latency or CPU target is missed")
    p.add_argument("--json", type=Path, help="also write the results to this file")
    p.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=(0.0, 0.5),
        metavar=("MIN", "MAX"),
        help="ask scenarios: seconds each user waits between an answer and the next question (0 0.5)",
    )
    p.add_argument(
        "--profile", help="ask scenarios: write a py-spy profile (raw) of the server's first timed phase here"
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = []
    for name in SCENARIOS if args.scenario == "all" else (args.scenario,):
        with tempfile.TemporaryDirectory(prefix="load-") as tmp:
            work = Path(tmp)
            if name == "mixed":
                results.append(scenario_mixed(args, work))
            elif name == "idle":
                results.append(scenario_idle(args, work))
            else:
                results.append(scenario_ask(args, work, ingest=name == "ask+ingest"))
    for r in results:
        print(json.dumps({k: v for k, v in r.items() if k not in ("by_kind", "plain")}))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    ok = all(r["checks_pass"] for r in results)
    if args.strict:
        ok = ok and all(v for r in results for k, v in r.items() if k.startswith("target_"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
