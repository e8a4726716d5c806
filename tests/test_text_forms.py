"""Text is shown with the document's own characters and matched in the characters people type
(issue 26: CJK compatibility characters and full-width forms; issue 25: full-width punctuation
shown as in the document)."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium

from app.container import Container
from app.documents.render_pool import render_page
from app.documents.text_clean import clean_page_text
from app.models.sparse import term_coverage, tokenize
from app.text_forms import match_form
from tests.fixtures import pdf_factory

RULES = (
    "就業規則の第３条：年次有給休暇は１年につき２０日とする！"
    "長期休暇（最長１４日）の申請は、上長の承認を要する。ﾊﾟｰﾄﾀｲﾑ勤務者の休暇は別に定める。"
)
OTHER = "社員食堂は午前１１時から午後２時まで営業する。メニューは毎週月曜日に掲示される。"


def test_match_form_folds_what_pdfs_produce_into_what_people_type() -> None:
    assert match_form("\u46fe") == "の"  # a font's ToUnicode entry for の
    assert match_form("最\u2ed1") == "最長"  # CJK Radicals Supplement, which NFKC leaves alone
    assert match_form("\u2f47本") == "日本"  # a Kangxi radical
    assert match_form("ＬａＴｅＸ：２０！") == "LaTeX:20!"
    assert match_form("ﾊﾟｰﾄ") == "パート"
    assert match_form("①㈱") == "1(株)"
    assert match_form("長期休暇") == "長期休暇"  # what is already typed stays as it is


def test_page_text_keeps_full_width_forms_and_spells_out_ligatures() -> None:
    assert clean_page_text("第３条：（注）ﾊﾟｰﾄ！") == "第３条：（注）ﾊﾟｰﾄ！"
    assert clean_page_text("\ufb01nal\u00a0cut") == "final cut"
    assert tokenize("第３条：ﾊﾟｰﾄ") == tokenize("第3条:パート")


def test_a_misencoded_japanese_pdf_is_found_typed_and_shown_as_written(container: Container, tmp_path: Path) -> None:
    pdf = pdf_factory.misencoded_japanese_pdf(tmp_path, [OTHER, RULES], name="規則.pdf")
    layer = pdfium.PdfDocument(pdf)[1].get_textpage().get_text_range()
    assert "\u46fe" in layer and "\u2ed1" in layer and "の" not in layer  # as such PDFs are
    assert container.ingestion.ingest_file("alice", pdf).outcome == "ingested"

    found = container.retriever.retrieve("alice", "長期休暇の最長日数は？")
    best = found.passages[0]
    assert (best.file, best.page) == ("規則.pdf", 2), [(p.file, p.page, p.score) for p in found.passages]
    # Shown as the document has it: its own code points and its full-width punctuation.
    assert "最\u2ed1１４日" in best.text and "\u46fe申請" in best.text and "２０日とする！" in best.text
    assert "ﾊﾟｰﾄﾀｲﾑ" in best.text

    # Typed with ordinary kana, kanji and digits, the question's terms are all on the page.
    assert term_coverage("長期休暇の申請は最長14日、パートタイム勤務者", best.text) == 1.0

    # The page view locates the passage on the page to highlight it.
    mark = render_page(pdf, 2, passage=best.text).mark
    assert mark is not None and mark[3] - mark[1] > 20, mark  # the passage's two lines, at least
