"""Checks that the edge-case PDF generators produce what their docstrings promise,
and that the real PDFs and the evaluation set in tests/data are intact."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from tests.fixtures import pdf_factory as pf

DATA = Path(__file__).resolve().parent / "data"

# file -> (pages, sha256); must match tests/data/README.md
REAL_PDFS = {
    "natbib.pdf": (26, "fb7c6708e6167dc9a875943f0638b341dd6b9b677aed5f6d56fdf3bbcc68e511"),
    "hyperref-doc.pdf": (63, "496ab562d18e27f8b0d677680ce7ab427e054b788b35d9a996f68086cac17a32"),
    "jbtxdoc.pdf": (14, "4f08619fd0fec557408a5d3511ca718cade1d7f8764d1938a1bb8b502b32c5a9"),
    "bxjscls-manual.pdf": (27, "aa75c871df4fa986ed134970d52f9f6d38d1dae404382e150a0dd0ee5a127d18"),
    "bashref.pdf": (196, "104971d389c0b9b7a261b0b3070a53b0d8cce6db1ffddefcc8423ddda92acd87"),
}


def page_texts(path: Path, password: str | None = None) -> list[str]:
    doc = pdfium.PdfDocument(str(path), password=password)
    try:
        return [doc[i].get_textpage().get_text_bounded() for i in range(len(doc))]
    finally:
        doc.close()


def squash(s: str) -> str:
    return " ".join(s.split())


# ------------------------------------------------------------------ real PDFs


@pytest.mark.parametrize("name", sorted(REAL_PDFS))
def test_real_pdf_checksum_and_pages(name: str) -> None:
    pages, sha = REAL_PDFS[name]
    path = DATA / name
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha
    doc = pdfium.PdfDocument(str(path))
    try:
        assert len(doc) == pages
    finally:
        doc.close()


def test_japanese_dvipdfmx_pdf_extracts_with_pdfium() -> None:
    # jbtxdoc.pdf has no ToUnicode maps; PDFium still recovers the Japanese text.
    first = page_texts(DATA / "jbtxdoc.pdf")[0]
    assert "BIBTEXの使い方" in first
    assert "漢字コード系は BIBTERMCODE, BIBFILECODE の 2 つの環境変数で変更可能" in squash(first)


def test_bashref_printed_page_numbers_are_offset_by_six() -> None:
    # Physical page 7 carries the printed number 1; the PDF has no /PageLabels.
    texts = page_texts(DATA / "bashref.pdf")
    assert texts[6].startswith("1\r\n1 Introduction")
    assert texts[104].startswith("Chapter 6: Bash Features 99")


# ------------------------------------------------------------------ eval set


def test_eval_set_is_well_formed() -> None:
    lines = (DATA / "eval" / "qa.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    assert len({r["id"] for r in rows}) == len(rows)
    counts: dict[tuple[str, bool], int] = {}
    heldout: dict[tuple[str, bool], int] = {}
    for r in rows:
        assert set(r) == {"id", "question", "pdf", "pages", "lang", "answerable", "answer", "split"}
        assert r["lang"] in ("en", "ja")
        assert r["id"].startswith(r["lang"] + "-")
        assert r["split"] in ("tune", "heldout")
        counts[(r["lang"], r["answerable"])] = counts.get((r["lang"], r["answerable"]), 0) + 1
        if r["split"] == "heldout":
            heldout[(r["lang"], r["answerable"])] = heldout.get((r["lang"], r["answerable"]), 0) + 1
        if r["answerable"]:
            assert r["pdf"] in REAL_PDFS and r["answer"]
            n_pages = REAL_PDFS[r["pdf"]][0]
            assert r["pages"] and all(1 <= p <= n_pages for p in r["pages"])
        else:
            assert r["pdf"] is None and r["pages"] == [] and r["answer"] == ""
    assert counts[("en", True)] >= 25
    assert counts[("ja", True)] >= 22
    assert counts.get(("en", False), 0) + counts.get(("ja", False), 0) >= 10
    # the held-out split (never used for tuning): 10 English, 8 Japanese answerable, 2 unanswerable
    assert heldout == {("en", True): 10, ("ja", True): 8, ("en", False): 1, ("ja", False): 1}


# ------------------------------------------------------------------ generated PDFs


def test_text_pdf_round_trip(tmp_path: Path) -> None:
    pages = [
        "Alpha page one. The quick brown fox jumps over the lazy dog.",
        "Second page: “curly quotes” – en dash, café, naïve.",
        "",
    ]
    path = pf.text_pdf(tmp_path, pages, name="known.pdf")
    assert path == tmp_path / "known.pdf"
    texts = page_texts(path)
    assert len(texts) == 3
    assert squash(texts[0]) == pages[0]
    assert squash(texts[1]) == pages[1]
    assert texts[2] == ""


def test_text_pdf_wraps_long_lines(tmp_path: Path) -> None:
    words = " ".join(f"word{i}" for i in range(200))
    text = page_texts(pf.text_pdf(tmp_path, [words]))[0]
    assert "\r\n" in text  # wrapped into several lines
    assert squash(text) == words


def test_text_pdf_hyphenation_comes_back_as_stx(tmp_path: Path) -> None:
    text = page_texts(pf.text_pdf(tmp_path, ["retrieval of informa-\ntion works"]))[0]
    # PDFium joins the lines and replaces the line-end hyphen with U+0002.
    assert text == "retrieval of informa\x02tion works"


def test_text_pdf_ligatures_need_a_unicode_font(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unicode_font_path"):
        pf.text_pdf(tmp_path, ["\ufb01nal"], name="core.pdf")
    font = pf.unicode_font_path()
    if font is None:
        pytest.fail("no DejaVu Sans font installed (Debian fonts-dejavu-core; `make system-deps` installs it)")
    path = pf.text_pdf(tmp_path, ["The \ufb01nal of\ufb01ce \ufb02ow"], name="lig.pdf", font=font)
    text = page_texts(path)[0]
    assert text == "The final office flow"  # PDFium decomposes ligatures


def test_big_pdf(tmp_path: Path) -> None:
    path = pf.big_pdf(tmp_path, 120)
    texts = page_texts(path)
    assert len(texts) == 120
    for i in (1, 60, 120):
        assert texts[i - 1].startswith(f"Page {i} of 120\r\nmarker-{i:05d}")


def test_big_pdf_min_bytes(tmp_path: Path) -> None:
    path = pf.big_pdf(tmp_path, 3, min_bytes=2_000_000)
    assert path.stat().st_size >= 2_000_000
    assert len(page_texts(path)) == 3


def test_encrypted_pdf(tmp_path: Path) -> None:
    path = pf.encrypted_pdf(tmp_path)
    with pytest.raises(pdfium.PdfiumError, match=r"(?i)password"):
        pdfium.PdfDocument(str(path))
    texts = page_texts(path, password=pf.ENCRYPTED_PASSWORD)
    assert len(texts) == 1
    assert "The natbib package is a reimplementation of the LATEX \\cite" in texts[0]


def test_scanned_pdf_has_no_text(tmp_path: Path) -> None:
    path = pf.scanned_pdf(tmp_path)
    texts = page_texts(path)
    assert len(texts) == 2
    assert all(t == "" for t in texts)
    doc = pdfium.PdfDocument(str(path))
    try:
        objs = list(doc[0].get_objects())
        assert objs and all(o.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE for o in objs)
    finally:
        doc.close()


@pytest.mark.parametrize("make", [pf.truncated_pdf, pf.not_a_pdf])
def test_broken_pdfs_fail_to_open(tmp_path: Path, make) -> None:
    path = make(tmp_path)
    assert path.suffix == ".pdf" and path.stat().st_size > 0
    with pytest.raises(pdfium.PdfiumError):
        pdfium.PdfDocument(str(path))
