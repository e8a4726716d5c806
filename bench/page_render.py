"""Page view: 20 simultaneous renders of different pages of the five test PDFs (threads, as the
server's request threads call it), in-process versus the render pool, then from the cache.

Baseline: PDFium in the calling threads behind one lock (the only safe way to run it in-process;
without the lock concurrent renders can crash the server). Prints one JSON line.
"""

from __future__ import annotations

import concurrent.futures
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.config import load_settings  # noqa: E402
from app.container import Container  # noqa: E402
from app.documents.ingestion import sha256_of  # noqa: E402
from app.documents.pages import PageCache, PageRenderer  # noqa: E402
from app.documents.render_pool import RenderedPage, RenderPool, render_page  # noqa: E402

DOCS = sorted((ROOT / "tests" / "data").glob("*.pdf"))
VIEWS = 20


class InThread(RenderPool):
    """The baseline: render in the caller's thread, one at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def render(self, path: Path, page: int, passage: str | None = None) -> RenderedPage:
        with self._lock:
            return render_page(path, page, passage)

    def close(self) -> None:
        pass


def page_count(pdf: Path) -> int:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(pdf))
    try:
        return len(document)
    finally:
        document.close()


def burst(renderer: PageRenderer, views: list[tuple[str, int]]) -> tuple[float, list[float]]:
    """Wall time of VIEWS simultaneous page views, and each view's own latency."""

    def one(view: tuple[str, int]) -> float:
        started = time.perf_counter()
        renderer.render("bench", view[0], view[1])
        return time.perf_counter() - started

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(VIEWS) as threads:
        latencies = list(threads.map(one, views))
    return time.perf_counter() - started, latencies


def summary(wall: float, latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "wall_s": round(wall, 3),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 1),
    }


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="pdfqa-bench-render-") as tmp:
        container = Container(load_settings(ROOT / "config.yaml", data_dir=Path(tmp)))
        views = []
        for pdf in DOCS:
            sha = sha256_of(pdf)
            container.files.put("bench", sha, pdf)
            doc = container.registry.create("bench", pdf.name, sha, pdf.stat().st_size, None)
            pages = page_count(pdf)
            container.registry.update(doc.id, status="ready", pages=pages)
            views += [(doc.id, 1 + pages * k // 5) for k in (1, 2, 3, 4)]
        d = container.settings.documents
        baseline = PageRenderer(container.registry, container.files, InThread())
        pool = RenderPool(d.render_workers, d.parse_memory_mb, d.parse_timeout_s)
        started = time.perf_counter()
        pool.close = lambda: None  # type: ignore[method-assign]  # keep the workers for the next run
        for _ in range(d.render_workers):  # start the workers first: their start-up is paid once per server
            pool.render(DOCS[0], 1)
        warm_s = time.perf_counter() - started
        pooled = PageRenderer(container.registry, container.files, pool)
        cached = PageRenderer(container.registry, container.files, pool, PageCache(int(d.render_cache_mb * 2**20)))
        results = {
            "in_thread_locked": summary(*burst(baseline, views)),
            "pool": summary(*burst(pooled, views)),
        }
        burst(cached, views)  # fill the cache
        results["pool_cached"] = summary(*burst(cached, views))
        container.close()
    base = results["in_thread_locked"]
    print(
        json.dumps(
            {
                "bench": "page_render",
                "views": VIEWS,
                "documents": len(DOCS),
                "workers": d.render_workers,
                "worker_start_s": round(warm_s, 2),
                **results,
                "pool_vs_in_thread_wall": round(base["wall_s"] / results["pool"]["wall_s"], 2),
                "cached_vs_in_thread_wall": round(base["wall_s"] / results["pool_cached"]["wall_s"], 1),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
