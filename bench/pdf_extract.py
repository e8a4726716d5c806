"""PDF text extraction: pypdfium2 (the default) against pypdf (the baseline), same files, same process.

    .venv/bin/python bench/pdf_extract.py

Prints seconds per parser and the speed ratio; also checks that the Japanese dvipdfmx PDF comes out
readable (a known word is found) with each parser.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from app.documents.pdf_reader import ReadLimits, read_pdf

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
FILES = ["bashref.pdf", "hyperref-doc.pdf", "natbib.pdf", "jbtxdoc.pdf", "bxjscls-manual.pdf"]
REPEATS = 3


def timed(parser: str) -> tuple[float, int, bool]:
    best = float("inf")
    pages = 0
    japanese_ok = False
    for _ in range(REPEATS):
        started = time.perf_counter()
        pages = 0
        for name in FILES:
            result = read_pdf(DATA / name, parser, ReadLimits(isolate=False))  # type: ignore[arg-type]
            pages += len(result)
            if name == "jbtxdoc.pdf":
                japanese_ok = "文献" in "".join(p.text for p in result)
        best = min(best, time.perf_counter() - started)
    return best, pages, japanese_ok


def main() -> None:
    base_s, pages, base_ja = timed("pypdf")
    ours_s, _, ours_ja = timed("pypdfium2")
    result = {
        "pages": pages,
        "pypdf_s": round(base_s, 3),
        "pypdfium2_s": round(ours_s, 3),
        "speedup": round(base_s / ours_s, 1),
        "japanese_readable": {"pypdf": base_ja, "pypdfium2": ours_ja},
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
