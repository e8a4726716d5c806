"""Section context from the PDF outline: which heading path a chunk is indexed under."""

from app.documents.pdf_reader import read_pdf
from app.documents.pdf_text import PageText
from app.documents.sections import SectionTracker
from tests.conftest import DATA


def _page(number: int, text: str, *headings: tuple[int, str]) -> PageText:
    return PageText(number=number, label=str(number), text=text, headings=tuple(headings))


def test_a_chunk_above_a_new_heading_keeps_the_previous_section() -> None:
    tracker = SectionTracker()
    tracker.start_page(_page(1, "3 Shell Variables\nBourne variables are ...", (0, "3 Shell Variables")))
    assert tracker.path(0, 20) == ["3 Shell Variables"]
    text = "... the end of the previous list.\n3.1 Special Parameters\n$? expands to the exit status"
    tracker.start_page(_page(2, text, (1, "3.1 Special Parameters")))
    heading_at = text.index("3.1")
    assert tracker.path(0, 30) == ["3 Shell Variables"]  # above the heading
    assert tracker.path(heading_at, len(text)) == ["3 Shell Variables", "3.1 Special Parameters"]


def test_a_sibling_heading_closes_the_deeper_ones_and_pages_without_headings_inherit() -> None:
    tracker = SectionTracker()
    tracker.start_page(_page(1, "A\nB\nC", (0, "A"), (1, "B"), (2, "C")))
    assert tracker.path(4, 5) == ["A", "B", "C"]
    tracker.start_page(_page(2, "D here", (1, "D")))
    assert tracker.path(0, 6) == ["A", "D"]
    tracker.start_page(_page(3, "no heading on this page"))
    assert tracker.path(0, 10) == ["A", "D"]


def test_heading_is_found_despite_spacing_and_without_its_number() -> None:
    tracker = SectionTracker()
    text = "intro text here. Controlling   the prompt\nThe value of PS1 ..."
    tracker.start_page(_page(1, text, (1, "6.9 Controlling the Prompt")))
    assert tracker.path(0, 10) == []  # the heading is further down the page
    assert tracker.path(text.index("The value"), len(text)) == ["6.9 Controlling the Prompt"]


def test_only_the_innermost_levels_are_kept() -> None:
    tracker = SectionTracker(max_levels=2)
    tracker.start_page(_page(1, "A B C", (0, "A"), (1, "B"), (2, "C")))
    assert tracker.path(4, 5) == ["B", "C"]


def test_real_manual_page_gets_its_outline_section() -> None:
    """bashref.pdf's outline: page 111 starts in "Controlling the Prompt" (the PS1 escapes)."""
    tracker = SectionTracker()
    path = None
    for page in read_pdf(DATA / "bashref.pdf"):
        tracker.start_page(page)
        if page.number == 111:
            path = tracker.path(0, 100)
            break
    assert path == ["Bash Features", "Controlling the Prompt"]  # None: page 111 was never read
