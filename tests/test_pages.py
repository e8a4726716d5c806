"""Page rendering for the page view: ownership, page bounds, and the highlighted passage."""

from __future__ import annotations

import pytest
from PIL import Image

from app.container import Container
from app.errors import NotFound


def yellow_pixels(image: Image.Image) -> int:
    return sum(1 for r, g, b in image.getdata() if r > 230 and g > 200 and b < 150)


@pytest.mark.parametrize(
    ("question", "file"),
    [
        ("How do I reduce the blank space between entries in my reference list?", "natbib.pdf"),
        ("著者が多すぎるとき、途中から「et al.」と表示させるにはどう書けばいいですか？", "jbtxdoc.pdf"),
    ],
)
def test_cited_passage_is_highlighted_on_its_page(library: Container, question: str, file: str) -> None:
    passage = next(p for p in library.retriever.retrieve("alice", question, limit=10).passages if p.file == file)
    renderer = library.pages
    plain = renderer.render("alice", passage.doc_id, passage.page)
    marked = renderer.render("alice", passage.doc_id, passage.page, passage=passage.text)
    assert plain.size == marked.size and plain.width > 800
    assert yellow_pixels(plain) < 50 < yellow_pixels(marked)


def test_other_users_pages_and_bad_pages_are_not_found(library: Container) -> None:
    doc = library.registry.list("alice")[0]
    renderer = library.pages
    with pytest.raises(NotFound):
        renderer.render("bob", doc.id, 1)
    with pytest.raises(NotFound):
        renderer.render("alice", doc.id, doc.pages + 1)
