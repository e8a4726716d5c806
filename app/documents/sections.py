"""Section context for chunks, from the PDF's outline (bookmarks).

A chunk cut from the middle of a manual often lacks the words that name its topic: the list of
prompt escapes never says "prompt" again, the table of special parameters never says "special
parameter". The headings it sits under do. Walking the pages in order, the tracker keeps the open
headings (chapter > section > subsection) and locates each heading of a page in its text, so a chunk
above a new heading on the same page still belongs to the previous section.

PDFs without an outline give empty paths, and nothing changes for them.
"""

from __future__ import annotations

import re

from app.documents.pdf_text import PageText

SEPARATOR = " > "
_NUMBER = re.compile(r"^\s*(?:\d+(?:\.\d+)*\.?|[A-Z](?:\.\d+)*\.?)\s+")


def _find(title: str, text: str, start: int) -> int | None:
    """Offset of the heading's text in the page text at or after `start`, tolerant of spacing
    and case; tried with and without its number ("3.4.2 Special Parameters")."""
    for candidate in (title, _NUMBER.sub("", title)):
        words = candidate.split()
        if not words:
            continue
        pattern = r"\s*".join(re.escape(w) for w in words)
        match = re.compile(pattern, re.IGNORECASE).search(text, start)
        if match:
            return match.start()
    return None


class SectionTracker:
    """Feed pages in document order with `start_page`; `path(start, end)` then names the section
    in force for a chunk at that character span of the current page."""

    def __init__(self, max_levels: int = 3) -> None:
        self._max_levels = max_levels
        self._open: list[tuple[int, str]] = []  # (depth, title) of the headings in force
        self._marks: list[tuple[int, list[tuple[int, str]]]] = [(-1, [])]  # (offset, headings from there)

    def start_page(self, page: PageText) -> None:
        self._marks = [(-1, list(self._open))]
        cursor = 0
        for depth, title in page.headings:
            found = _find(title, page.text, cursor)
            cursor = found if found is not None else cursor
            self._open = [h for h in self._open if h[0] < depth] + [(depth, title)]
            self._marks.append((cursor, list(self._open)))

    def path(self, start: int, end: int) -> list[str]:
        """Titles from outer to inner (at most `max_levels`, the innermost kept)."""
        middle = (start + end) // 2
        headings: list[tuple[int, str]] = []
        for offset, opened in self._marks:
            if offset <= middle:
                headings = opened
        return [title for _, title in headings][-self._max_levels :]
