"""Both OCR engines on rendered real pages (tests/data at 200 dpi): English and Japanese sentences,
a page on its side, upside down and askew, vertical Japanese, word boxes where the text layer puts
the words, big images scaled down, and what check_engine says is missing. The engines are installed
by `make test` (Debian tesseract-ocr-* packages, PyPI tesserocr and rapidocr): nothing here skips."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pypdfium2 as pdfium
import pytest
from PIL import Image

from app.documents.ocr import OcrPage, OcrUnavailable, check_engine, open_engine
from app.documents.ocr_image import PageGeometry, bounded, estimate_skew, join_words, turn_upright
from app.documents.text_clean import CJK
from tests.fixtures.scans import DATA, as_scanned, render, vertical_japanese_page

pytestmark = pytest.mark.slow

ENGINES = ("tesseract", "rapidocr")
LANGUAGES = ("eng", "jpn")
ENGLISH = "documents written with them could only be used with numerical citations after extensive editing"  # natbib p4
JAPANESE = "0.99と1.00の間ではもっとずっと少なくなるであろう"  # jbtxdoc p2
VERTICAL = "参考文献のタイプセットスタイルの選択の余地は少ない"  # jbtxdoc p10, set vertically


@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Iterator[object]:
    opened = open_engine(request.param, LANGUAGES)
    yield opened
    opened.close()  # type: ignore[attr-defined]


def words_of(text: str) -> str:
    return " ".join(text.split())


def no_spaces(text: str) -> str:
    return re.sub(r"\s+", "", text)


def text_layer_box(source: str, page: int, word: str) -> tuple[float, float, float, float]:
    """Where the PDF's own text layer puts `word`, as fractions of the page (origin top-left)."""
    pdf = pdfium.PdfDocument(str(DATA / source))
    try:
        text_page = pdf[page - 1].get_textpage()
        width, height = pdf[page - 1].get_size()
        searcher = text_page.search(word, match_case=True, match_whole_word=True)
        start, count = searcher.get_next()
        boxes = [text_page.get_charbox(i) for i in range(start, start + count)]
    finally:
        pdf.close()
    left, bottom = min(b[0] for b in boxes), min(b[1] for b in boxes)
    right, top = max(b[2] for b in boxes), max(b[3] for b in boxes)
    return (left / width, 1 - top / height, right / width, 1 - bottom / height)


def box_of(page: OcrPage, word: str) -> tuple[float, float, float, float]:
    found = [w.box for w in page.words if w.text == word]
    assert found, f"{word!r} not among the words read: {[w.text for w in page.words][:40]}"
    return found[0]


def assert_near(actual: tuple[float, ...], expected: tuple[float, ...], tolerance: float = 0.012) -> None:
    assert all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True)), (actual, expected)


def test_english_page(engine: object) -> None:
    page = engine.recognise(render("natbib.pdf", 4))  # type: ignore[attr-defined]
    assert page.angle == 0
    assert ENGLISH in words_of(page.text)
    assert_near(box_of(page, "Introduction"), text_layer_box("natbib.pdf", 4, "Introduction"))
    assert all(0 <= v <= 1 for w in page.words for v in w.box)
    assert all(w.box[0] < w.box[2] and w.box[1] < w.box[3] for w in page.words)


def test_japanese_page_without_spaces_between_characters(engine: object) -> None:
    page = engine.recognise(render("jbtxdoc.pdf", 2))  # type: ignore[attr-defined]
    assert page.angle == 0
    assert JAPANESE in no_spaces(page.text)
    assert "の違いと" in page.text
    assert not re.search(rf"[{CJK}] +[{CJK}]", page.text), page.text
    assert page.seconds > 0


def test_page_turned_90_degrees(engine: object) -> None:
    page = engine.recognise(as_scanned(render("natbib.pdf", 4), turn=90))  # type: ignore[attr-defined]
    assert page.angle == 90
    assert ENGLISH in words_of(page.text)
    # The box is on the image as given: the page turned clockwise, (x, y) -> (1 - y, x).
    x0, y0, x1, y1 = text_layer_box("natbib.pdf", 4, "Introduction")
    assert_near(box_of(page, "Introduction"), (1 - y1, x0, 1 - y0, x1))


def test_page_upside_down(engine: object) -> None:
    page = engine.recognise(as_scanned(render("jbtxdoc.pdf", 2), turn=180))  # type: ignore[attr-defined]
    assert page.angle == 180
    assert JAPANESE in no_spaces(page.text)


def test_page_skewed_2_degrees(engine: object) -> None:
    english = engine.recognise(as_scanned(render("natbib.pdf", 4), skew=2.0))  # type: ignore[attr-defined]
    japanese = engine.recognise(as_scanned(render("jbtxdoc.pdf", 2), skew=-2.0))  # type: ignore[attr-defined]
    assert (english.angle, japanese.angle) == (0, 0)
    assert ENGLISH in words_of(english.text)
    assert JAPANESE in no_spaces(japanese.text)


def test_vertical_japanese(engine: object) -> None:
    page = engine.recognise(vertical_japanese_page())  # type: ignore[attr-defined]
    assert VERTICAL in no_spaces(page.text)
    # The first column is the rightmost one, read from the top.
    first = page.words[0].box
    assert first[0] > 0.8 and first[1] < 0.15, page.words[:3]


def test_big_image_is_scaled_down_and_boxes_stay_fractions() -> None:
    image = render("natbib.pdf", 4, dpi=300)  # 8.7 megapixels
    small = bounded(image, 2.0)
    assert small.width * small.height <= 2_000_000
    assert small.width / small.height == pytest.approx(image.width / image.height, rel=0.01)
    engine = open_engine("tesseract", ["eng"], max_megapixels=2.0)
    page = engine.recognise(image)
    assert ENGLISH in words_of(page.text)
    assert_near(box_of(page, "Introduction"), text_layer_box("natbib.pdf", 4, "Introduction"))


@pytest.mark.parametrize("skew", [2.0, -2.0, 0.0])
def test_skew_is_measured(skew: float) -> None:
    """The straightening angle found is the one that undoes the scan's skew (a page skewed by 2
    degrees is turned back by -2), English and Japanese alike."""
    for source, page in (("natbib.pdf", 4), ("jbtxdoc.pdf", 2)):
        assert estimate_skew(as_scanned(render(source, page), skew=skew)) == pytest.approx(-skew, abs=0.25)


@pytest.mark.parametrize("angle", [0, 90, 180, 270])
def test_boxes_map_back_through_turns_and_skew(angle: int) -> None:
    """A black square on a page, turned and straightened as the engines do: its box maps back."""
    caller = Image.new("L", (400, 600), 255)
    caller.paste(0, (40, 100, 120, 160))  # x0, y0, x1, y1
    upright = turn_upright(caller, angle)
    for skew in (0.0, 3.0):
        straight = upright.rotate(skew, resample=Image.Resampling.NEAREST, fillcolor=255)
        ink = straight.point(lambda v: 255 if v < 128 else 0).getbbox()
        assert ink is not None
        mapped = PageGeometry(caller.size, angle, skew).to_fractions(tuple(float(v) for v in ink))  # type: ignore[arg-type]
        expected = (40 / 400, 100 / 600, 120 / 400, 160 / 600)
        assert_near(mapped, expected, tolerance=0.03 if skew else 0.005)


def test_japanese_joined_without_spaces() -> None:
    assert join_words(["本節では", "BibTEX", "versions", "0.98i", "と", "0.99a", "の違いと", ",", "各々の"]) == (
        "本節では BibTEX versions 0.98i と 0.99a の違いと,各々の"
    )
    assert join_words(["イル の 違い に つい て 述べ る"]) == "イルの違いについて述べる"


@pytest.mark.parametrize("name", ENGINES)
def test_check_engine_accepts_what_is_installed(name: str) -> None:
    assert check_engine(name, LANGUAGES) is None
    assert check_engine(name, ["eng"]) is None


def test_check_engine_names_what_is_missing() -> None:
    reason = check_engine("tesseract", ["eng", "fra"])
    assert reason is not None and "fra.traineddata" in reason and "tesseract-ocr-fra" in reason
    with pytest.raises(OcrUnavailable, match="tesseract-ocr-fra"):
        open_engine("tesseract", ["eng", "fra"])
    reason = check_engine("rapidocr", ["eng", "ara"])
    assert reason is not None and "ara" in reason
    reason = check_engine("paddle", LANGUAGES)
    assert reason is not None and "rapidocr" in reason and "tesseract" in reason
    assert check_engine("tesseract", []) is not None
