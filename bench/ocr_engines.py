"""OCR engines compared on scanned copies of real pages (issue 26): retrieval quality, speed, memory.

    .venv/bin/python bench/ocr_engines.py [--engines tesseract,rapidocr] [--parts quality,speed,memory,ingest]
                                          [--workers 2] [--long-pages 200]

The scans are tests/fixtures/scans.py's image-only PDFs of natbib.pdf (English, 26 pages) and
jbtxdoc.pdf (Japanese, 14 pages), each whole: straight at 200 dpi, skewed 2 degrees, at 150 dpi, and
turned 90 degrees. A page is rendered from the scan at 200 dpi (as the reader does) and recognised
by the engine in a worker process of its own; results are cached under test-artifacts/ocr-bench/.

- quality: hit@5 (and MRR) of the app's own retrieval (local embeddings + sparse vectors, embedded
  store, `retrieval.top_k` passages collapsed to pages, as `app eval` scores) over each scan, against
  the same questions over the original text PDF. Questions: tests/data/eval/ocr_qa.jsonl (14 English,
  14 Japanese, written from these pages' text for this benchmark) and, as a second set, the natbib and
  jbtxdoc questions of tests/data/eval/qa.jsonl. Each copy is ingested into a fresh workspace through
  the app's IngestionService; for a scan, the PDF reader's pages are replaced by the recognised text
  of its pages (cleaned by the app's clean_page_text), so chunking, embedding, storing and retrieval
  are the app's own. (Until the reader recognises scans itself; then this could ingest the scan.)
- speed: pages/s on 8 pages full of text per language (natbib 4-6, 8, 9, 11, 12, 15; jbtxdoc 1-5,
  7-9), one worker (the engine's own threads: rapidocr 2, tesseract 1) and `--workers` workers with
  one thread each; engine start-up is timed apart. The load average is printed with each figure.
- memory: peak RSS of the workers recognising a `--long-pages` scan (natbib's pages over and over),
  with the virtual size (the reader's address-space limit counts that).
- ingest: the same scan through `python -m app ingest` in a fresh data dir, with the engine
  config.yaml names; the resident memory of the CLI and its reader process, sampled from /proc.

Prints one JSON line per figure and writes them to test-artifacts/ocr-bench/results-<parts>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures.scans import SCANS, Scan, long_scan, make_scan  # noqa: E402

OUT = ROOT / "test-artifacts" / "ocr-bench"
OCR_DPI = 200
LANGUAGES = ("eng", "jpn")
DENSE = {"en": ("natbib.pdf", (4, 5, 6, 8, 9, 11, 12, 15)), "ja": ("jbtxdoc.pdf", (1, 2, 3, 4, 5, 7, 8, 9))}
QUESTIONS = ROOT / "tests" / "data" / "eval" / "ocr_qa.jsonl"
EVAL_SET = ROOT / "tests" / "data" / "eval" / "qa.jsonl"


def emit(record: dict[str, Any], results: list[dict[str, Any]]) -> None:
    results.append(record)
    print(json.dumps(record, ensure_ascii=False), flush=True)


def load() -> float:
    return round(os.getloadavg()[0], 2)


# --- the worker: one process, one engine ------------------------------------------------------------


def worker(engine_name: str, pdf: str, pages: list[int], threads: int | None, out: str) -> None:
    import pypdfium2 as pdfium

    from app.documents.ocr import open_engine

    started = time.perf_counter()
    engine = open_engine(engine_name, LANGUAGES, threads=threads)
    start_s = time.perf_counter() - started
    document = pdfium.PdfDocument(pdf)
    records = []
    busy = time.perf_counter()
    for number in pages:
        page = document[number - 1]
        image = page.render(scale=OCR_DPI / 72).to_pil()
        page.close()
        result = engine.recognise(image)
        records.append({"page": number, "text": result.text, "angle": result.angle, "seconds": result.seconds})
    busy_s = time.perf_counter() - busy
    # From /proc, not getrusage: ru_maxrss survives exec, so it would count the parent's memory.
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    summary = {
        "start_s": round(start_s, 2),
        "busy_s": round(busy_s, 2),
        "peak_rss_mb": round(int(status["VmHWM"].split()[0]) / 1024),
        "vm_peak_mb": round(int(status["VmPeak"].split()[0]) / 1024),
    }
    Path(out).write_text(json.dumps({"pages": records, **summary}, ensure_ascii=False))


def run_workers(engine: str, pdf: Path, pages: list[int], workers: int, threads: int | None) -> dict[str, Any]:
    """Pages shared round-robin among `workers` processes; their results merged in page order."""
    with tempfile.TemporaryDirectory() as tmp:
        procs = []
        for i in range(workers):
            share = pages[i::workers]
            out = Path(tmp) / f"{i}.json"
            command = [sys.executable, __file__, "--worker", engine, str(pdf), ",".join(map(str, share)), str(out)]
            if threads:
                command.append(str(threads))
            procs.append((subprocess.Popen(command), out))
        parts = []
        for proc, out in procs:
            if proc.wait() != 0:
                raise RuntimeError(f"OCR worker failed ({engine}, {pdf.name})")
            parts.append(json.loads(out.read_text()))
    records = sorted((r for p in parts for r in p["pages"]), key=lambda r: pages.index(r["page"]))
    return {
        "pages": records,
        "start_s": max(p["start_s"] for p in parts),
        "busy_s": max(p["busy_s"] for p in parts),
        "peak_rss_mb": max(p["peak_rss_mb"] for p in parts),
        "vm_peak_mb": max(p["vm_peak_mb"] for p in parts),
    }


def recognised(engine: str, scan: Scan, workers: int) -> dict[str, Any]:
    """The scan's pages recognised by `engine`, cached by the scan's digest."""
    cache = OUT / engine / f"{scan.name}-{scan.digest()}.json"
    if cache.exists():
        return json.loads(cache.read_text())
    started = load()
    result = run_workers(engine, make_scan(scan), list(range(1, len(scan.pages) + 1)), workers, threads=1)
    result["load"] = [started, load()]
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(result, ensure_ascii=False))
    return result


# --- quality: retrieval over the scans against the originals ---------------------------------------


def questions() -> dict[str, list[Any]]:
    from app.evaluation.runner import load_questions

    evaluation = [q for q in load_questions(EVAL_SET) if q.pdf in ("natbib.pdf", "jbtxdoc.pdf") and q.labelled]
    return {"ocr_qa": load_questions(QUESTIONS), "qa.jsonl": evaluation}


class Workspace:
    """A fresh app workspace holding one copy of each document, named as the original."""

    def __init__(self, embedder: Any) -> None:
        from app.config import load_settings
        from app.config_sections import DocumentSettings
        from app.container import Container

        self._tmp = tempfile.TemporaryDirectory()
        overrides: dict[str, Any] = {}
        if "ocr" in DocumentSettings.model_fields:  # the reader must not recognise the text originals itself
            overrides["documents"] = {"ocr": "off"}
        settings = load_settings(ROOT / "config.yaml", data_dir=Path(self._tmp.name), **overrides)
        self.container = Container(settings)
        if embedder is not None:
            self.container.__dict__["embedder"] = embedder

    def ingest(self, path: Path, name: str, pages: list[str] | None = None) -> None:
        """`path` through the app's ingestion; with `pages`, the reader yields these texts instead."""
        from app.documents import indexing
        from app.evaluation.runner import EVAL_USER

        if pages is None:
            result = self.container.ingestion.ingest_file(EVAL_USER, path, name=name)
        else:
            from app.documents.pdf_reader import PdfPages
            from app.documents.pdf_text import PageText
            from app.documents.text_clean import clean_page_text

            def recognised_pages(*_args: Any, **_kwargs: Any) -> PdfPages:
                texts = [clean_page_text(text) for text in pages]
                return PdfPages(len(texts), iter(PageText(i, str(i), t) for i, t in enumerate(texts, 1)))

            original = indexing.open_pdf
            indexing.open_pdf = recognised_pages  # type: ignore[assignment]
            try:
                result = self.container.ingestion.ingest_file(EVAL_USER, path, name=name)
            finally:
                indexing.open_pdf = original
        if result.outcome == "failed":
            raise RuntimeError(f"{name}: {result.message}")

    def score(self, question_sets: dict[str, list[Any]]) -> dict[str, dict[str, Any]]:
        from app.evaluation.runner import retrieve_all, score

        scores = {}
        for set_name, qs in question_sets.items():
            rows = [row for row, _ in retrieve_all(self.container.retriever, qs)]
            metrics = score(qs, rows)
            scores[set_name] = {lang: metrics[lang].model_dump() for lang in ("en", "ja") if lang in metrics}
            scores[set_name]["missed_at_5"] = [  # type: ignore[assignment]
                q.id
                for q, row in zip(qs, rows, strict=True)
                if not any(r["file"] == q.pdf and r["page"] in (q.pages or ()) for r in row["retrieved"][:5])
            ]
        return scores

    def close(self) -> None:
        self.container.close()
        self._tmp.cleanup()


def character_error(texts: list[str], source: str) -> float:
    """1 - difflib's match ratio between the recognised and the text layer's characters (spaces left
    out, NFKC, cleaned as the app cleans pages), over the whole document."""
    import difflib
    import re
    import unicodedata

    import pypdfium2 as pdfium

    from app.documents.text_clean import clean_page_text

    def bare(text: str) -> str:
        return re.sub(r"\s+", "", unicodedata.normalize("NFKC", clean_page_text(text)))

    pdf = pdfium.PdfDocument(str(ROOT / "tests" / "data" / source))
    originals = [pdf[i].get_textpage().get_text_bounded() for i in range(len(pdf))]
    pdf.close()
    matched = total = 0
    for original, text in zip(originals, texts, strict=True):
        a, b = bare(original), bare(text)
        matched += sum(
            block.size for block in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()
        )
        total += max(len(a), len(b))
    return round(1 - matched / max(total, 1), 4)


def quality(engines: list[str], workers: int, results: list[dict[str, Any]]) -> None:
    sets = questions()
    originals = Workspace(None)
    embedder = originals.container.embedder
    for source in ("natbib.pdf", "jbtxdoc.pdf"):
        originals.ingest(ROOT / "tests" / "data" / source, source)
    baseline = originals.score(sets)
    originals.close()
    emit({"part": "quality", "copy": "text original", "scores": baseline}, results)
    variants = [scan.name.split("-", 1)[1] for scan in SCANS["en"]]
    for engine in engines:
        for index, variant in enumerate(variants):
            workspace = Workspace(embedder)
            speeds = {}
            for lang, scans in SCANS.items():
                scan = scans[index]
                done = recognised(engine, scan, workers)
                workspace.ingest(make_scan(scan), scan.source, [p["text"] for p in done["pages"]])
                seconds = [p["seconds"] for p in done["pages"]]
                angles = sorted({p["angle"] for p in done["pages"]})
                speeds[lang] = {
                    "char_error": character_error([p["text"] for p in done["pages"]], scan.source),
                    "s_per_page": round(sum(seconds) / len(seconds), 2),
                    "angles": angles,
                    "load": done["load"],
                }
            emit(
                {"part": "quality", "engine": engine, "copy": variant, "scores": workspace.score(sets), "ocr": speeds},
                results,
            )
            workspace.close()


# --- speed and memory -----------------------------------------------------------------------------


def speed(engines: list[str], workers: int, results: list[dict[str, Any]]) -> None:
    for lang, (source, pages) in DENSE.items():
        scan = make_scan(Scan(f"{source.removesuffix('.pdf')}-dense", source, pages))
        for engine in engines:
            for count, threads in ((1, None), (workers, 1)):
                before = load()
                run = run_workers(engine, scan, list(range(1, len(pages) + 1)), count, threads)
                emit(
                    {
                        "part": "speed",
                        "engine": engine,
                        "lang": lang,
                        "workers": count,
                        "threads": threads or "engine default",
                        "pages": len(pages),
                        "pages_per_s": round(len(pages) / run["busy_s"], 3),
                        "start_s": run["start_s"],
                        "peak_rss_mb": run["peak_rss_mb"],
                        "load": [before, load()],
                    },
                    results,
                )


def memory(engines: list[str], workers: int, pages: int, results: list[dict[str, Any]]) -> None:
    scan = long_scan(pages)
    path = make_scan(scan)
    for engine in engines:
        before = load()
        run = run_workers(engine, path, list(range(1, pages + 1)), workers, 1)
        emit(
            {
                "part": "memory",
                "engine": engine,
                "pages": pages,
                "workers": workers,
                "peak_rss_mb_per_worker": run["peak_rss_mb"],
                "vm_peak_mb_per_worker": run["vm_peak_mb"],
                "pages_per_s": round(pages / run["busy_s"], 3),
                "load": [before, load()],
            },
            results,
        )


def _tree(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return [pid]
    return [pid, *(p for child in children for p in _tree(int(child)))]


def _resident_mb(pid: int) -> tuple[int, str]:
    """(resident MB, what runs) of a process, (0, "") once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        command = Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return 0, ""
    kb = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return kb // 1024, command.split(" -m ", 1)[-1].split(" ", 1)[0] if " -m " in command else command[:40]


def ingest(pages: int, results: list[dict[str, Any]]) -> None:
    """`python -m app ingest` of the long scan into a fresh data dir, with the configured engine: the
    resident memory of the CLI and its reader, sampled from /proc every 0.5 s."""
    path = make_scan(long_scan(pages))
    with tempfile.TemporaryDirectory() as data:
        env = dict(os.environ, APP_DATA_DIR=data, HF_HUB_OFFLINE="1", APP_DOCUMENTS__MAX_FILE_MB="1000")
        app = [sys.executable, "-m", "app"]
        password = "bench-password-123\n"
        subprocess.run([*app, "users", "add", "bench"], cwd=ROOT, env=env, input=password * 2, text=True, check=True)
        before, started = load(), time.perf_counter()
        proc = subprocess.Popen([*app, "ingest", "--user", "bench", str(path)], cwd=ROOT, env=env)
        peaks: dict[str, int] = {}
        peak_sum = 0
        while proc.poll() is None:
            sizes = [_resident_mb(pid) for pid in _tree(proc.pid)]
            for mb, name in sizes:
                if name:
                    peaks[name] = max(peaks.get(name, 0), mb)
            peak_sum = max(peak_sum, sum(mb for mb, _ in sizes))
            time.sleep(0.5)
        seconds = time.perf_counter() - started
    emit(
        {
            "part": "ingest",
            "pages": pages,
            "exit": proc.returncode,
            "seconds": round(seconds),
            "pages_per_s": round(pages / seconds, 3),
            "peak_rss_mb_sum": peak_sum,
            "peak_rss_mb": peaks,
            "load": [before, load()],
        },
        results,
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        engine, pdf, pages, out, *threads = sys.argv[2:]
        worker(engine, pdf, [int(p) for p in pages.split(",") if p], int(threads[0]) if threads else None, out)
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--engines", default="tesseract,rapidocr")
    parser.add_argument("--parts", default="quality,speed,memory,ingest")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--long-pages", type=int, default=200)
    args = parser.parse_args()
    from loguru import logger

    logger.remove()  # the app's per-question debug lines would bury the figures
    logger.add(sys.stderr, level="WARNING")
    engines = args.engines.split(",")
    parts = args.parts.split(",")
    results: list[dict[str, Any]] = []
    emit({"started": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count(), "load": load()}, results)
    if "quality" in parts:
        quality(engines, args.workers, results)
    if "speed" in parts:
        speed(engines, args.workers, results)
    if "memory" in parts:
        memory(engines, args.workers, args.long_pages, results)
    if "ingest" in parts:
        ingest(args.long_pages, results)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"results-{'-'.join(parts)}.json").write_text(json.dumps(results, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
