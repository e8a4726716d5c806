"""Time to the first useful output of the command line, this tree against an earlier commit.

The baseline is the app as it was at BASELINE (default: the commit before lazy start-up), taken
with `git archive` into a temporary folder (no checkout) and run with the same interpreter on its
own workspace. Each command runs in a fresh process; the best of RUNS wall times is kept.

    .venv/bin/python bench/startup.py [BASELINE]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = sys.argv[1] if len(sys.argv) > 1 else "20eb5c6"
RUNS = 3
PASSWORD = "bench-long-password\n"


def app(tree: Path, data_dir: Path, *args: str, stdin: str = "") -> tuple[float, subprocess.CompletedProcess[str]]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(tree),
        "APP_DATA_DIR": str(data_dir),
        "APP_CONFIG": str(tree / "config.yaml"),
        "APP_SECRETS_DIR": str(data_dir / "none"),
        "APP_DOCUMENTS__MAX_FILE_MB": "1",
        "HF_HUB_OFFLINE": "1",
    }
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "app", *args], input=stdin, capture_output=True, text=True, cwd=tree, env=env
    )
    return time.perf_counter() - started, done


def best(tree: Path, data_dir: Path, *args: str, expect: int) -> float:
    times = []
    for _ in range(RUNS):
        seconds, done = app(tree, data_dir, *args)
        assert done.returncode == expect, (tree, args, done.returncode, done.stderr[-2000:])
        times.append(seconds)
    return round(min(times), 2)


def baseline_tree(folder: Path) -> Path:
    archive = subprocess.run(
        ["git", "archive", BASELINE, "app", "config.yaml"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="pdfqa-bench-startup-") as tmp:
        tmp_path = Path(tmp)
        junk = tmp_path / "junk.pdf"
        junk.write_bytes(os.urandom(4096))
        big = tmp_path / "big.pdf"
        big.write_bytes(b"%PDF-1.4\n" + os.urandom(2 * 1024 * 1024))
        trees = {"baseline": baseline_tree(tmp_path / "baseline"), "this": ROOT}
        results: dict[str, dict[str, float]] = {}
        for label, tree in trees.items():
            data_dir = tmp_path / f"data-{label}"
            _, made = app(tree, data_dir, "users", "add", "alice", stdin=PASSWORD)
            assert made.returncode == 0, made.stderr
            _, ingested = app(tree, data_dir, "ingest", str(ROOT / "tests" / "data" / "natbib.pdf"), "--user", "alice")
            assert ingested.returncode == 0, ingested.stderr
            question = "How do I get superscript citation numbers?"
            results[label] = {
                "help": best(tree, data_dir, "--help", expect=0),
                "ingest_not_a_pdf": best(tree, data_dir, "ingest", str(junk), "--user", "alice", expect=1),
                "ingest_too_big": best(tree, data_dir, "ingest", str(big), "--user", "alice", expect=1),
                "ingest_unknown_user": best(tree, data_dir, "ingest", str(junk), "--user", "nobody", expect=1),
                "ask_json_retrieval_only": best(tree, data_dir, "ask", question, "--user", "alice", "--json", expect=0),
            }
            if label == "this":
                results["this"]["ask_warm_server_api"] = warm_server_ask(data_dir, question)
    ratios = {k: round(results["baseline"][k] / v, 1) for k, v in results["this"].items() if k in results["baseline"]}
    # The same question through a running server's API, against a fresh `ask --json` process.
    ratios["ask_warm_server_vs_cold_cli"] = round(
        results["this"]["ask_json_retrieval_only"] / results["this"]["ask_warm_server_api"], 1
    )
    print(
        json.dumps({"bench": "startup", "baseline_commit": BASELINE, "seconds": results, "speedup": ratios}),
        flush=True,
    )


def warm_server_ask(data_dir: Path, question: str) -> float:
    """Best of RUNS: sign in and ask over HTTP (the Gradio queue API), retrieval only, on a server
    that has answered once already."""
    sys.path.insert(0, str(ROOT))
    from tests.fixtures.gradio_http import fn_index, run_event, signed_in
    from tests.fixtures.server import running_server

    times = []
    # No answer cache: every ask retrieves.
    with running_server(data_dir, env={"APP_CACHE__ANSWER_TTL_S": "0"}, admin=None) as server:
        for attempt in range(RUNS + 1):
            started = time.perf_counter()
            client = signed_in(server, "alice", PASSWORD.strip())
            result = run_event(client, fn_index(client, "ask"), [question, [], None, []])  # text, chat, state, scope
            assert result.success, result.error
            if attempt:  # the first one warms the caches of this server process
                times.append(time.perf_counter() - started)
    return round(min(times), 2)


if __name__ == "__main__":
    main()
