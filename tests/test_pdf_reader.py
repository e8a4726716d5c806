"""Reading real and broken PDFs (the reader runs in its resource-limited child process)."""

import time
from pathlib import Path

import pytest

from app.documents.pdf_reader import ReadLimits, open_pdf, read_pdf
from app.documents.text_clean import clean_page_text
from app.errors import IngestError
from app.models.embeddings import EmbeddingModel
from tests.conftest import DATA, container_for, make_settings
from tests.fixtures import pdf_factory


def test_japanese_dvipdfmx_pdf_without_tounicode_reads_correctly() -> None:
    pages = read_pdf(DATA / "jbtxdoc.pdf")
    assert len(pages) == 14
    text = "\n".join(p.text for p in pages)
    assert "文献" in text and "データベース" in text
    assert pages[1].number == 2 and pages[1].label == "2"


def test_pypdf_garbles_the_same_japanese_pdf() -> None:
    """Why pypdfium2 is the default: pypdf returns no usable Japanese for this file."""
    text = "\n".join(p.text for p in read_pdf(DATA / "jbtxdoc.pdf", parser="pypdf"))
    assert "文献" not in text


def test_pypdf_parser_reads_english(tmp_path: Path) -> None:
    pages = read_pdf(DATA / "natbib.pdf", parser="pypdf")
    assert len(pages) == 26 and "natbib" in pages[3].text


def test_luatex_japanese_has_no_spaces_between_characters() -> None:
    pages = read_pdf(DATA / "bxjscls-manual.pdf")
    text = "\n".join(p.text for p in pages)
    assert "文書クラス" in text
    assert "文 書" not in text


@pytest.mark.parametrize(
    ("make", "reason"),
    pdf_factory.BAD_PDFS,
)
def test_bad_pdfs_give_a_reason(tmp_path: Path, make, reason: str) -> None:
    path = make(tmp_path)
    with pytest.raises(IngestError) as caught:
        read_pdf(path)
    assert caught.value.reason == reason
    assert "Traceback" not in str(caught.value)


def test_page_limit(tmp_path: Path) -> None:
    path = pdf_factory.big_pdf(tmp_path, 12)
    with pytest.raises(IngestError) as caught:
        read_pdf(path, limits=ReadLimits(max_pages=10))
    assert caught.value.reason == "too_large"


def test_memory_limit_stops_a_decompression_bomb_not_a_normal_pdf(tmp_path: Path) -> None:
    """Under the same 256 MB limit a real manual is read and a small PDF that inflates to 200 MB is
    refused; the reader process dies, this process carries on."""
    limits = ReadLimits(memory_mb=256, timeout_s=60)
    assert read_pdf(DATA / "natbib.pdf", limits=limits)[0].text
    bomb = pdf_factory.decompression_bomb(tmp_path)
    assert bomb.stat().st_size < 1 << 20
    with pytest.raises(IngestError) as caught:
        read_pdf(bomb, limits=limits)
    assert caught.value.reason in ("damaged", "too_large")
    assert read_pdf(DATA / "natbib.pdf", limits=limits)[0].text  # the next file still works


def test_generated_text_round_trips_with_hyphenation_and_ligatures(tmp_path: Path) -> None:
    font = pdf_factory.unicode_font_path()
    pages = ["The informa-\ntion retrieval system is ef\ufb01cient and \ufb02exible."]
    path = pdf_factory.text_pdf(tmp_path, pages, font=font) if font else pdf_factory.text_pdf(tmp_path, pages)
    text = read_pdf(path)[0].text
    assert "information retrieval" in text
    if font:
        assert "efficient and flexible" in text


def test_clean_text_rules() -> None:
    assert clean_page_text("infor-\r\nmation") == "information"
    assert clean_page_text("\ufb01nal") == "final"
    assert clean_page_text("文 書 ク ラ ス を 使 う") == "文書クラスを使う"
    assert clean_page_text("日本語の文章が\n続いている。") == "日本語の文章が続いている。"
    assert clean_page_text("two  spaces\tand tab") == "two spaces and tab"


@pytest.mark.parametrize("parser", ["pypdfium2", "pypdf"])
def test_outline_headings_are_attached_to_their_pages(parser: str) -> None:
    pages = read_pdf(DATA / "bashref.pdf", parser=parser)  # type: ignore[arg-type]
    assert (1, "Controlling the Prompt") in pages[109].headings  # physical page 110
    assert sum(len(p.headings) for p in pages) > 100
    assert read_pdf(DATA / "natbib.pdf")[0].headings == ()  # no outline: nothing invented


def test_outline_titles_are_bounded(tmp_path: Path) -> None:
    """A crafted outline cannot push megabytes of heading text into the index."""
    path = pdf_factory.outline_pdf(
        tmp_path,
        [(0, "Introduction", "Some text."), (1, "x" * 50_000, "More text."), (1, "Usage", "Even more.")],
    )
    pages = read_pdf(path)
    assert pages[0].headings == ((0, "Introduction"),)
    ((depth, title),) = pages[1].headings
    assert depth == 1 and title == "x" * 200
    assert pages[2].headings == ((1, "Usage"),)


def test_pages_come_one_at_a_time_with_the_count_first() -> None:
    with open_pdf(DATA / "bashref.pdf") as pdf:
        assert pdf.count == 196
        pages = iter(pdf)
        first = next(pages)
        assert first.number == 1 and first.text
        process = pdf._close.__self__._process  # type: ignore[attr-defined]
    assert process.poll() is not None  # closing early stops the reader process


def test_time_limit_counts_the_readers_work_not_the_callers() -> None:
    """Pages may wait to be embedded for longer than the parse time limit: that is not a timeout."""
    with open_pdf(DATA / "natbib.pdf", limits=ReadLimits(timeout_s=3)) as pdf:
        numbers = []
        for page in pdf:
            numbers.append(page.number)
            if page.number == 2:
                time.sleep(4)
    assert numbers == list(range(1, 27))


def test_open_refuses_an_unreadable_file_at_once(tmp_path: Path) -> None:
    with pytest.raises(IngestError) as caught:
        open_pdf(pdf_factory.big_pdf(tmp_path, 12), limits=ReadLimits(max_pages=10))
    assert caught.value.reason == "too_large"


def test_a_reader_waits_ready_for_the_next_file(tmp_path: Path) -> None:
    """Opening a PDF leaves one reader child started (interpreter and PDFium loaded) for the next
    file; the next open takes that child. One that died while waiting is replaced, not used."""
    from app.documents import pdf_reader

    limits = ReadLimits(timeout_s=30)
    with open_pdf(DATA / "natbib.pdf", limits=limits) as pdf:
        assert pdf.count == 26
    waiting, _ = pdf_reader._STANDBY._waiting[("pypdfium2", limits)]
    assert waiting.poll() is None  # alive, waiting for a path
    odd = tmp_path / "line\nbreak ü.pdf"  # the path travels as JSON: any file name works
    odd.write_bytes((DATA / "natbib.pdf").read_bytes())
    with open_pdf(odd, limits=limits) as pdf:
        assert pdf._close.__self__._process is waiting  # type: ignore[attr-defined]
        assert next(iter(pdf)).text
    killed, _ = pdf_reader._STANDBY._waiting[("pypdfium2", limits)]
    killed.kill()
    killed.wait()
    with open_pdf(DATA / "natbib.pdf", limits=limits) as pdf:
        assert pdf._close.__self__._process is not killed  # type: ignore[attr-defined]
        assert len(list(pdf)) == 26


def test_reader_children_run_this_app_whatever_the_working_directory_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader and the page renderer start `python -m app.documents...`: an `app` package in the
    working directory (another checkout, a user's folder) must not be the code they run."""
    from app.documents.render_pool import RenderPool

    impostor = tmp_path / "app" / "documents"
    impostor.mkdir(parents=True)
    for folder in (tmp_path / "app", impostor):
        (folder / "__init__.py").write_text("")
    for name in ("pdf_reader.py", "render_pool.py"):
        (impostor / name).write_text("import sys\nsys.stdout.write('not the app\\n')\nsys.exit(3)\n")
    monkeypatch.chdir(tmp_path)
    limits = ReadLimits(timeout_s=30, memory_mb=1500)  # a kind of read of its own: a fresh child
    with open_pdf(DATA / "natbib.pdf", limits=limits) as pdf:
        assert pdf.count == 26 and next(iter(pdf)).text
    pool = RenderPool(workers=1, memory_mb=1024, timeout_s=30)
    try:
        rendered = pool.render(DATA / "natbib.pdf", 1)
        assert rendered.data[:4] == b"RIFF" and rendered.size[0] > 100  # a WebP image of the page
    finally:
        pool.close()


def _slow_pdf(dir: Path, pages: int = 60) -> Path:
    """A small PDF whose text takes about a second per page to read: each page's content stream
    inflates to 20 MB of text operators (~58 KB compressed), read page by page in little memory."""
    import zlib

    packer = zlib.compressobj(9)
    block = b"BT /F1 12 Tf 72 712 Td (A) Tj ET\n" * 30000
    content = b"".join([*(packer.compress(block) for _ in range(20)), packer.flush()])
    return pdf_factory._raw_pdf(dir / "slow.pdf", [(612, 792, content)] * pages, flate=True)


def test_time_limit_stops_a_pdf_that_reads_too_long(tmp_path: Path) -> None:
    """About a minute of reading (unlimited) against a 5 s limit: stopped with reason timeout,
    and the next file is read under the same limits."""
    limits = ReadLimits(timeout_s=5)
    slow = _slow_pdf(tmp_path)
    assert slow.stat().st_size < 5 << 20
    with pytest.raises(IngestError) as caught:
        read_pdf(slow, limits=limits)
    assert caught.value.reason == "timeout"
    assert str(caught.value) == "reading the PDF took longer than 5 s"
    assert read_pdf(pdf_factory.text_pdf(tmp_path, ["A short page."]), limits=limits)[0].text == "A short page."


def test_parse_time_limit_comes_from_the_settings(tmp_path: Path, local_embedder: EmbeddingModel) -> None:
    """documents.parse_timeout_s reaches the reader process: the upload fails with reason timeout
    and nothing of the file is searchable."""
    c = container_for(make_settings(tmp_path / "data", documents={"parse_timeout_s": 5}), local_embedder)
    try:
        slow = c.ingestion.ingest_file("alice", _slow_pdf(tmp_path))
        assert (slow.outcome, slow.reason) == ("failed", "timeout"), slow
        assert "longer than 5 s" in (slow.message or "")
        assert [(d.name, d.status) for d in c.registry.list("alice")] == [("slow.pdf", "failed")]
        assert c.vector_store.count("alice") == 0
        assert c.ingestion.ingest_file("alice", DATA / "jbtxdoc.pdf").outcome == "ingested"
    finally:
        c.close()


def test_parse_memory_limit_comes_from_the_settings(tmp_path: Path, local_embedder: EmbeddingModel) -> None:
    """documents.parse_memory_mb reaches the reader process: a decompression bomb fails with a
    message that names the configured limit, and an ordinary manual is read under the same limit."""
    c = container_for(make_settings(tmp_path / "data", documents={"parse_memory_mb": 300}), local_embedder)
    try:
        bomb = c.ingestion.ingest_file("alice", pdf_factory.decompression_bomb(tmp_path))
        assert (bomb.outcome, bomb.reason) == ("failed", "damaged"), bomb
        assert "more than 300 MB of memory needed" in (bomb.message or ""), bomb
        assert [(d.name, d.status) for d in c.registry.list("alice")] == [("bomb.pdf", "failed")]
        assert c.vector_store.count("alice") == 0
        assert c.ingestion.ingest_file("alice", DATA / "jbtxdoc.pdf").outcome == "ingested"
    finally:
        c.close()
