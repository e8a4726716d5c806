"""Hostile files in one batch, from outside (`python -m app ingest DIR`): each bad file gets a clear
message of its own, the good files of the same batch are ingested, memory and time stay bounded,
and the store still answers afterwards."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

from app.documents.names import display_name
from tests.conftest import DATA
from tests.fixtures import pdf_factory as f
from tests.fixtures.cli import run_app, run_app_measured

XSS_NAME = "<img src=x onerror=alert(1)>.pdf"
BELL_CLEAN = "belland[31mcolour.pdf"  # "bell\x07and\x1b[31mcolour.pdf" without its control characters

# file name -> the message its failure line must carry (one line each on stderr)
EXPECTED_FAILURES = {
    "empty.pdf": "the file is empty (0 bytes)",
    "header_only.pdf": "the PDF is damaged or incomplete",
    "random.pdf": "the file is not a PDF",
    "truncated.pdf": "the PDF is damaged or incomplete",
    "encrypted.pdf": "the PDF is encrypted (password-protected)",
    "zero_pages.pdf": "the PDF has no pages",
    "scanned.pdf": "the PDF has no text layer (a scanned document?)",
    "blank_pages.pdf": "the PDF has 1500 pages; the limit is 1000",
    "archive.pdf": "the file is a ZIP archive (or an Office document), not a PDF",
    "page.pdf": "the file is an HTML page, not a PDF",
    "bomb.pdf": "the reader stopped",
    "oversized.pdf": "the limit is 3 MB",
}


def _batch(folder: Path) -> None:
    folder.mkdir()
    shutil.copy(DATA / "natbib.pdf", folder / "natbib.pdf")
    f.empty_file(folder)
    f.header_only_pdf(folder)
    f.not_a_pdf(folder, "random.pdf")
    f.truncated_pdf(folder)
    f.encrypted_pdf(folder, "encrypted.pdf")
    f.zero_pages_pdf(folder)
    f.scanned_pdf(folder, "scanned.pdf")
    f.blank_pages_pdf(folder, pages=1500)
    f.zip_named_pdf(folder)
    f.html_named_pdf(folder)
    f.decompression_bomb(folder)
    oversized = folder / "oversized.pdf"
    oversized.write_bytes(b"%PDF-1.4\n" + b"0" * (3 * 1048576 + 1))
    # Hostile but readable: they must be ingested, not crash the reader.
    f.deeply_nested_pdf(folder)
    f.broken_font_pdf(folder)
    f.text_pdf(folder, ["A note about gaskets and their torque values."], name=XSS_NAME)
    f.text_pdf(folder, ["A note about washers and their sizes."], name="bell\x07and\x1b[31mcolour.pdf")


def test_a_batch_of_hostile_files_is_reported_file_by_file(tmp_path: Path) -> None:
    _batch(tmp_path / "batch")
    data = tmp_path / "data"
    env = {
        "APP_DOCUMENTS__MAX_PAGES": "1000",
        "APP_DOCUMENTS__MAX_FILE_MB": "3",
        "APP_DOCUMENTS__PARSE_MEMORY_MB": "1024",
        "APP_DOCUMENTS__OCR": "off",  # scanned.pdf is refused (tests/test_ocr_ingestion.py: recognised)
    }
    assert run_app(data, "users", "add", "carol", stdin="carols-long-password\n").returncode == 0
    started = time.monotonic()
    done, peak_mb = run_app_measured(data, "ingest", str(tmp_path / "batch"), "--user", "carol", env=env, timeout=240)
    elapsed = time.monotonic() - started  # peak_mb: the largest of the command and its PDF readers

    assert done.returncode == 1, done.stderr  # some files failed...
    failed = {line.split(":", 1)[0].removeprefix("failed").strip(): line for line in done.stderr.splitlines()}
    failed = {name: line for name, line in failed.items() if line.startswith("failed")}
    assert set(failed) == set(EXPECTED_FAILURES), done.stderr  # ...exactly the bad ones, one line each
    for name, message in EXPECTED_FAILURES.items():
        assert message in failed[name], failed[name]
    assert "Traceback" not in done.stderr + done.stdout
    ingested = set(re.findall(r"(?m)^ingested\s+(.+?): \d+ pages", done.stdout))
    assert ingested == {"natbib.pdf", "nested.pdf", "broken_font.pdf", XSS_NAME, BELL_CLEAN}, done.stdout
    assert elapsed < 180 and peak_mb < 1500, (elapsed, peak_mb)

    # The store still answers, and the stored names are the cleaned ones.
    listed = run_app(data, "documents", "list", "--user", "carol")
    assert listed.returncode == 0 and XSS_NAME in listed.stdout and BELL_CLEAN in listed.stdout
    asked = run_app(data, "ask", "--user", "carol", "--json", "How do I get superscript citation numbers?")
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer["citations"] and answer["citations"][0]["file"] == "natbib.pdf"


def test_names_cannot_climb_folders_fake_lines_or_reorder_text() -> None:
    assert display_name("../../etc/passwd.pdf") == "etc/passwd.pdf"
    assert display_name("/abs/./x/../y.pdf") == "abs/x/y.pdf"
    assert display_name("C:\\Users\\me\\report.pdf") == "C:/Users/me/report.pdf"
    assert display_name("two\nlines\r\n.pdf") == "two lines .pdf"
    assert display_name("bell\x07\x1b[2Jclear.pdf") == "bell[2Jclear.pdf"
    assert display_name("invoice\u202efdp.exe") == "invoicefdp.exe"  # no right-to-left override
    # nor invisible format characters that make two different names look the same
    assert display_name("re\u200bport\u00ad\u2060\ufeff.pdf") == "report.pdf"
    assert display_name("..") == display_name("") == "document.pdf"
    long = display_name("x" * 500 + ".pdf")
    assert len(long) == 200 and long.endswith("….pdf")
    assert display_name(XSS_NAME) == XSS_NAME  # kept as text; every view escapes it (safe_markdown.literal)
