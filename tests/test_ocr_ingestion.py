"""Scanned pages are read, indexed, cited and shown like any other page (issue 26).

Real engine (the configured default), real image-only PDFs made from real pages
(tests/fixtures/scans.py), the real embedding model and store; nothing mocked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from loguru import logger

from app.cli.ingest import describe, progress_text
from app.container import Container
from app.documents.indexing import Progress
from app.documents.pdf_reader import read_pdf
from app.documents.render_pool import render_page
from app.documents.scanned import OcrOptions, PageRecogniser, garbage_share, needs_recognition
from app.models.embeddings import EmbeddingModel
from app.storage.vector_store import DOC_KEY
from app.web.ui.documents_table import documents_view
from tests.conftest import DATA, container_for, make_settings
from tests.fixtures.scans import Scan, make_scan, mixed_pdf

# Two pages each: the question's answer is on the second, so "the right page" means something.
ENGLISH = Scan("natbib-p4-p10", "natbib.pdf", (4, 10))  # p.2 of the scan: "2.6 Citation Aliasing"
JAPANESE = Scan("jbtxdoc-p3-p5", "jbtxdoc.pdf", (3, 5))  # p.2 of the scan: the abbrv style's month names
ALIAS_QUESTION = "How do I define a citation alias such as Paper I?"
ALIAS_PASSAGE = "Sometimes one wants to refer to a reference with a special designation"
# Generous: other helpers' tests and benchmarks share the machine's two cores (a page takes 3-15 s).
PATIENT = {"ocr_page_timeout_s": 900}
MISSING = {"ocr_languages": ["eng", "tlh"]}  # no engine reads Klingon: OCR cannot run


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory, local_embedder: EmbeddingModel) -> Iterator[Container]:
    """alice's workspace holding the English and the Japanese scan (recognised once for the module);
    the progress events of the English one in `scanned.events`."""
    c = container_for(make_settings(tmp_path_factory.mktemp("scanned") / "data", documents=PATIENT), local_embedder)
    events: list[Progress] = []
    english = c.ingestion.ingest_file("alice", make_scan(ENGLISH), name="scan-en.pdf", progress=events.append)
    japanese = c.ingestion.ingest_file("alice", make_scan(JAPANESE), name="scan-ja.pdf")
    c.__dict__["test_results"] = (english, japanese, events)
    yield c
    c.close()


def _points_by_page(c: Container, doc_id: str) -> dict[int, int]:
    pages: dict[int, int] = {}
    for point in c.vector_store.export_points():
        payload = point["payload"]
        if payload.get(DOC_KEY) == doc_id:
            pages[int(payload["page"])] = pages.get(int(payload["page"]), 0) + 1
    return pages


def test_an_image_only_english_pdf_is_recognised_and_cited(scanned: Container) -> None:
    english, _, _ = scanned.__dict__["test_results"]
    assert english.outcome == "ingested" and english.pages == 2 and english.recognised == 2, english
    assert "(2 recognised)" in describe(english)
    doc = scanned.registry.get("alice", english.doc_id)
    assert doc.ocr_pages == 2 and doc.status == "ready" and doc.error is None
    assert set(_points_by_page(scanned, doc.id)) == {1, 2}

    answer = scanned.answers.ask("alice", ALIAS_QUESTION, doc_ids=[doc.id])
    best = answer.citations[0]
    assert (best.file, best.page, best.ocr) == ("scan-en.pdf", 2, True), answer.citations
    assert "alias" in best.passage.lower()
    # The recognised words and their boxes are kept for the page view; a text page has none.
    words = scanned.registry.words(doc.id, 2)
    assert words and any(w[0].lower().startswith("alias") for w in words)
    assert all(0 <= v <= 1 for w in words for v in w[1:])


def test_an_image_only_japanese_pdf_is_recognised_and_cited(scanned: Container) -> None:
    _, japanese, _ = scanned.__dict__["test_results"]
    assert japanese.outcome == "ingested" and japanese.pages == 2 and japanese.recognised == 2, japanese
    answer = scanned.answers.ask("alice", "abbrv スタイルでは月名をどう変えたか", doc_ids=[japanese.doc_id])
    best = answer.citations[0]
    assert (best.file, best.page, best.ocr) == ("scan-ja.pdf", 2, True), answer.citations
    assert "月名" in best.passage and " " not in best.passage.split("月名")[0][-3:]  # no spaces between characters


def test_the_highlight_of_a_recognised_passage_lies_where_its_words_are(scanned: Container) -> None:
    """The page view highlights a passage of a recognised page from the recogniser's word boxes: in
    the same place as the original PDF's text layer puts the same words (the scan is of that page)."""
    english, _, _ = scanned.__dict__["test_results"]
    sentence = "A warning is issued if the alias is used before it is defined"
    scanned_mark = _mark(scanned.pages.render_file("alice", english.doc_id, 2, sentence))
    original_mark = render_page(DATA / "natbib.pdf", 10, sentence).mark
    assert scanned_mark and original_mark
    assert all(abs(a - b) <= 12 for a, b in zip(scanned_mark, original_mark, strict=True)), (
        scanned_mark,
        original_mark,
    )
    # A cited chunk (the passage the page view is given) is highlighted too, on its own page only.
    answer = scanned.answers.ask("alice", ALIAS_QUESTION, doc_ids=[english.doc_id])
    best = answer.citations[0]
    top, bottom = _mark(scanned.pages.render_file("alice", best.doc_id, best.page, best.passage))[1::2]
    assert bottom - top > 50  # several lines
    assert _mark(scanned.pages.render_file("alice", best.doc_id, 1, best.passage)) is None


def _mark(path: Path) -> tuple[int, ...] | None:
    """The highlight's box in pixels, from the page file's name (`page-N.mark-L-T-R-B.webp`)."""
    found = re.search(r"\.mark-(\d+)-(\d+)-(\d+)-(\d+)\.webp$", path.name)
    return tuple(map(int, found.groups())) if found else None


def test_recognising_is_reported_page_by_page(scanned: Container) -> None:
    _, _, events = scanned.__dict__["test_results"]
    recognising = [(e.done, e.total) for e in events if e.stage == "recognising"]
    assert recognising == [(1, 2), (2, 2)], events
    assert events[-1].stage == "done"
    assert progress_text(Progress("scan-en.pdf", "recognising", done=1, total=2)) == (
        "scan-en.pdf recognising page 1/2"
    )


def test_a_mixed_pdf_indexes_every_page_and_counts_the_recognised_ones(tmp_path: Path, scanned: Container) -> None:
    mixed = mixed_pdf("natbib.pdf", [10], tmp_path / "mixed.pdf")
    result = scanned.ingestion.ingest_file("bob", mixed)
    assert result.outcome == "ingested" and result.pages == 26 and result.recognised == 1, result
    doc = scanned.registry.get("bob", result.doc_id)
    assert doc.ocr_pages == 1
    # The documents table counts them.
    assert documents_view([doc], "en")["data"][0][1:3] == ["26 (1 recognised)", "ready"]
    assert documents_view([doc], "ja")["data"][0][1] == "26（うち 1 ページは画像から認識）"
    assert set(_points_by_page(scanned, doc.id)) == set(range(1, 27))  # every page, the scanned one too
    assert scanned.registry.words(doc.id, 10) and scanned.registry.words(doc.id, 9) is None
    answer = scanned.answers.ask("bob", ALIAS_QUESTION)
    assert (answer.citations[0].page, answer.citations[0].ocr) == (10, True), answer.citations
    assert not any(c.ocr for c in answer.citations if c.page != 10)
    scanned.ingestion.delete("bob", doc.id)  # the words go with their document
    assert scanned.registry.words(doc.id, 10) is None


def test_with_ocr_off_a_scan_is_refused_for_its_missing_text_layer(
    tmp_path: Path, local_embedder: EmbeddingModel
) -> None:
    c = container_for(make_settings(tmp_path / "data", documents={"ocr": "off"}), local_embedder)
    try:
        result = c.ingestion.ingest_file("alice", make_scan(ENGLISH))
        assert result.outcome == "failed" and result.reason == "no_text", result
        assert result.message.startswith("the PDF has no text layer (a scanned document?)")
        assert "recognition is off" in result.message
        assert c.vector_store.count("alice") == 0 and c.registry.list("alice")[0].status == "failed"
    finally:
        c.close()


def test_a_missing_engine_is_said_once_at_start_and_scans_are_refused_with_its_reason(
    tmp_path: Path, local_embedder: EmbeddingModel
) -> None:
    said: list[str] = []
    sink = logger.add(lambda m: said.append(str(m)), level="WARNING")
    settings = make_settings(tmp_path / "data", documents=MISSING)
    c = container_for(settings, local_embedder)
    try:
        reason = c.ingestion.ocr_unavailable
        assert reason and "tlh" in reason
        other = container_for(make_settings(tmp_path / "other", documents=MISSING), local_embedder)
        _ = other.ingestion  # a second service in the same process says nothing more
        other.close()
        assert sum("OCR unavailable" in line and "tlh" in line for line in said) == 1, said
        c.users.add("root", "a-long-enough-password", is_admin=True)
        assert c.admin_console.system("root")["services"]["OCR"] == "not answering (OcrUnavailable)"

        result = c.ingestion.ingest_file("alice", make_scan(ENGLISH))
        assert result.outcome == "failed" and result.reason == "no_text", result
        assert result.message.startswith("the PDF has no text layer (a scanned document?)")
        assert "OCR is unavailable" in result.message and "tlh" in result.message
        # A PDF with a text layer is not affected.
        assert c.ingestion.ingest_file("alice", DATA / "natbib.pdf").outcome == "ingested"
    finally:
        logger.remove(sink)
        c.close()


def test_a_page_over_the_time_limit_is_named_and_costs_nothing_else(
    tmp_path: Path, local_embedder: EmbeddingModel
) -> None:
    settings = make_settings(tmp_path / "data", documents={"ocr_page_timeout_s": 0.01})
    c = container_for(settings, local_embedder)
    try:
        # A mixed PDF: its scanned page is left out with a note; every other page is indexed.
        result = c.ingestion.ingest_file("alice", mixed_pdf("natbib.pdf", [10], tmp_path / "mixed.pdf"))
        assert result.outcome == "ingested" and result.pages == 26 and result.recognised == 0, result
        note = "1 page not read: p. 10: recognising its text took longer than 0.01 s (documents.ocr_page_timeout_s)"
        assert result.message == note and note in describe(result)
        doc = c.registry.get("alice", result.doc_id)
        assert doc.status == "ready" and doc.error == note
        assert documents_view([doc], "en")["data"][0][1:3] == [26, f"ready — {note}"]
        assert set(_points_by_page(c, doc.id)) == set(range(1, 27)) - {10}
        before = c.vector_store.count("alice")

        # A scan whose every page is over the limit: refused with the reason, nothing else lost.
        refused = c.ingestion.ingest_file("alice", make_scan(ENGLISH))
        assert refused.outcome == "failed" and refused.reason == "timeout", refused
        assert refused.message == (
            "no text could be read from the PDF: p. 1: recognising its text took longer than 0.01 s "
            "(documents.ocr_page_timeout_s); p. 2: recognising its text took longer than 0.01 s "
            "(documents.ocr_page_timeout_s)"
        )
        assert c.vector_store.count("alice") == before
        assert c.registry.get("alice", doc.id).status == "ready"
    finally:
        c.close()


def test_which_pages_need_recognising() -> None:
    """Every page of the real text PDFs keeps its text layer (title pages, short pages and the
    Japanese one without a character map included); every page of their scans is recognised."""
    checked = 0
    for name in ("natbib.pdf", "jbtxdoc.pdf", "bxjscls-manual.pdf", "bashref.pdf"):
        recogniser = PageRecogniser(DATA / name, OcrOptions(mode="auto"))
        try:
            for page in read_pdf(DATA / name)[:30]:
                ink = partial(recogniser.ink, page.number - 1)
                assert not needs_recognition(page.text, ink), (name, page)
                checked += 1
        finally:
            recogniser.close()
    for scan in (ENGLISH, JAPANESE):
        recogniser = PageRecogniser(make_scan(scan), OcrOptions(mode="auto"))
        try:
            assert all(needs_recognition("", partial(recogniser.ink, i)) for i in range(2))
        finally:
            recogniser.close()
    assert checked == 26 + 14 + 27 + 30
    # A blank page and a speck are not scans; glyph garbage is unusable whatever the ink.
    assert not needs_recognition("", lambda: 0.0) and not needs_recognition("", lambda: 0.1)
    assert needs_recognition("Scanned by ACME 1", lambda: 2.1)  # a scan with a stamp in its text layer
    garbage = "\ue000\ue013\ue021 \ue044\ufffd\ue051" * 160  # a font without a character map...
    assert garbage_share(garbage) == 1.0
    mixed = "Chapter 3 Installation " * 12 + garbage  # ...beside a few real words: still unusable
    assert needs_recognition(mixed, lambda: 2.0) and not needs_recognition(mixed.replace(garbage, ""), lambda: 2.0)
