"""The page view under load and against hostile pages: PDFium runs in a pool of resource-limited
worker processes, so simultaneous renders never share it, a page past the memory or time limit
costs one worker (replaced) and one line of error, and rendered pages are cached per owner."""

from __future__ import annotations

import concurrent.futures
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from app.container import Container
from app.documents import pages as pages_module
from app.documents.ingestion import sha256_of
from app.documents.pages import PageCache, PageRenderer
from app.documents.registry import DocumentInfo
from app.documents.render_pool import RenderedPage, RenderPool, render_page
from app.errors import NotFound, RenderError
from tests.conftest import make_settings
from tests.fixtures import pdf_factory
from tests.fixtures.gradio_http import fn_index, run_event, signed_in
from tests.fixtures.server import ADMIN, running_server

DOCS = 20


def add_document(container: Container, owner: str, pdf: Path, pages: int) -> DocumentInfo:
    """A stored original with a ready registry row: all the page view reads (no vectors needed)."""
    sha = sha256_of(pdf)
    container.files.put(owner, sha, pdf)
    doc = container.registry.create(owner, pdf.name, sha, pdf.stat().st_size, None)
    container.registry.update(doc.id, status="ready", pages=pages)
    return container.registry.get(owner, doc.id)


def twenty_pdfs(folder: Path) -> list[Path]:
    folder.mkdir(exist_ok=True)
    return [
        pdf_factory.text_pdf(folder, [f"Document {i} page {n}. " * (5 + i) for n in (1, 2, 3)], name=f"doc{i:02d}.pdf")
        for i in range(DOCS)
    ]


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Container]:
    c = Container(make_settings(tmp_path / "data"))
    yield c
    c.close()


def test_twenty_simultaneous_page_views_of_different_documents(workspace: Container, tmp_path: Path) -> None:
    docs = [add_document(workspace, "alice", pdf, 3) for pdf in twenty_pdfs(tmp_path / "pdfs")]
    with concurrent.futures.ThreadPoolExecutor(DOCS) as threads:
        images = list(threads.map(lambda d: workspace.pages.render("alice", d.id, 2), docs))
    assert len(images) == DOCS and all(img.width > 800 and img.height > 1100 for img in images)
    # Different documents give different pages (no mixed-up replies between threads and workers).
    assert len({img.tobytes() for img in images}) == DOCS


def test_memory_and_time_limits_give_one_line_and_the_next_page_renders(workspace: Container, tmp_path: Path) -> None:
    heavy = add_document(workspace, "alice", pdf_factory.heavy_pages_pdf(tmp_path), 3)
    pool = RenderPool(workers=1, memory_mb=1024, timeout_s=1.5)
    renderer = PageRenderer(workspace.registry, workspace.files, pool)
    try:
        assert renderer.render("alice", heavy.id, 1).width > 800
        with pytest.raises(RenderError) as too_big:  # 200 x 200 inches: gigabytes of pixels
            renderer.render("alice", heavy.id, 2)
        assert str(too_big.value) == "the page needs more memory to render than allowed"
        with pytest.raises(RenderError) as too_slow:  # tens of thousands of strokes: seconds
            renderer.render("alice", heavy.id, 3)
        assert str(too_slow.value) == "the page took longer than 1.5 s to render"
        for error in (too_big.value, too_slow.value):
            assert "\n" not in str(error) and "Traceback" not in str(error)
        assert renderer.render("alice", heavy.id, 1).width > 800  # a fresh worker took over
    finally:
        renderer.close()


def test_cache_is_per_owner_and_bounded(workspace: Container, tmp_path: Path) -> None:
    pdf = pdf_factory.big_pdf(tmp_path, 3, name="shared.pdf")
    alice, bob = add_document(workspace, "alice", pdf, 3), add_document(workspace, "bob", pdf, 3)
    calls: list[int] = []

    class CountingPool(RenderPool):
        def render(self, path: Path, page: int, passage: str | None = None, words=None) -> RenderedPage:
            calls.append(page)
            return super().render(path, page, passage, words)

    # Pages are cached as the worker's WebP bytes: size the cache from the real entries so that
    # any two of them fit and three do not.
    sizes = [len(render_page(pdf, 1).data), len(render_page(pdf, 1, "Page 1 of 3 marker-00001").data)]
    budget = 2 * max(sizes) + min(sizes) // 2
    cache = PageCache(budget)
    renderer = PageRenderer(workspace.registry, workspace.files, CountingPool(1, 1024, 30), cache)
    try:
        first = renderer.render("alice", alice.id, 1)
        assert renderer.render("alice", alice.id, 1).tobytes() == first.tobytes() and calls == [1]
        renderer.render("bob", bob.id, 1)  # same file, another owner: rendered for bob, not served from alice's
        assert calls == [1, 1]
        renderer.render("alice", alice.id, 1, passage="Page 1 of 3 marker-00001")  # a highlight is its own entry
        assert calls == [1, 1, 1] and cache.size_bytes <= budget
        renderer.render("alice", alice.id, 1)  # evicted (least recently used) by the two after it
        assert calls == [1, 1, 1, 1]
        with pytest.raises(NotFound):
            renderer.render("bob", alice.id, 1)
    finally:
        renderer.close()


def test_page_files_are_webp_bounded_and_removed(
    workspace: Container, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page view's files: the worker's WebP bytes as they are, one file per page and passage,
    at most MAX_FILES kept, all gone when the renderer closes."""
    pdf = pdf_factory.big_pdf(tmp_path, 4, name="files.pdf")
    doc = add_document(workspace, "alice", pdf, 4)
    monkeypatch.setattr(pages_module, "MAX_FILES", 2)
    renderer = PageRenderer(workspace.registry, workspace.files, RenderPool(1, 1024, 30), PageCache(10 << 20))
    try:
        first = renderer.render_file("alice", doc.id, 1)
        assert renderer.render_file("alice", doc.id, 1) == first
        with Image.open(first) as image:
            assert image.format == "WEBP" and image.size == renderer.render("alice", doc.id, 1).size
        assert "alice" not in str(first) and doc.id not in str(first)
        highlighted = renderer.render_file("alice", doc.id, 1, passage="Page 1 of 4 marker-00001")
        assert highlighted != first and highlighted.read_bytes() != first.read_bytes()
        third = renderer.render_file("alice", doc.id, 2)
        assert not first.exists() and highlighted.exists() and third.exists()  # the oldest went
        with pytest.raises(NotFound):
            renderer.render_file("bob", doc.id, 1)
    finally:
        renderer.close()
    assert not third.exists() and not third.parent.parent.exists()


def test_twenty_simultaneous_page_views_over_http(tmp_path: Path) -> None:
    """The `page` API of the running app (`python -m app serve`, server.concurrency 32)."""
    data_dir = tmp_path / "data"
    setup = Container(make_settings(data_dir))
    try:
        setup.users.add(ADMIN[0], ADMIN[1], is_admin=True)
        docs = [add_document(setup, ADMIN[0], pdf, 3) for pdf in twenty_pdfs(tmp_path / "pdfs")]
    finally:
        setup.close()
    with running_server(data_dir, env={"APP_SERVER__CONCURRENCY": "32"}) as server:
        client = signed_in(server, *ADMIN)
        index = fn_index(client, "page")
        with concurrent.futures.ThreadPoolExecutor(DOCS) as threads:
            results = list(threads.map(lambda d: run_event(client, index, [d.id, 2], timeout=120), docs))
        errors = [r.error for r in results if not r.success]
        assert not errors, errors
        files = [r.output[0]["path"] for r in results]
        assert len(set(files)) == DOCS
        for path in files[:3]:
            with Image.open(path) as img:
                assert img.width > 800
        log = server.log()
        assert "Traceback" not in log and "page render" not in log


def render_workers() -> list[int]:
    """Pids of this process's render workers (Linux /proc)."""
    pids = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            ppid = next(line for line in status.read_text().splitlines() if line.startswith("PPid:"))
            cmdline = (status.parent / "cmdline").read_bytes()
        except (OSError, StopIteration):
            continue
        if int(ppid.split()[1]) == os.getpid() and b"app.documents.render_pool" in cmdline:
            pids.append(int(status.parent.name))
    return pids


def test_a_worker_that_dies_is_replaced(workspace: Container, tmp_path: Path) -> None:
    # Workers of other pools in this test process (another test file's server, run in the same
    # pytest worker) are not this pool's: only the new ones are counted.
    others = set(render_workers())
    doc = add_document(workspace, "alice", pdf_factory.big_pdf(tmp_path, 2, name="two.pdf"), 2)
    pool = RenderPool(workers=1, memory_mb=1024, timeout_s=30)
    renderer = PageRenderer(workspace.registry, workspace.files, pool)

    def ours() -> list[int]:
        return [p for p in render_workers() if p not in others]

    try:
        renderer.render("alice", doc.id, 1)
        [pid] = ours()
        os.kill(pid, signal.SIGKILL)  # as the kernel's OOM killer or a PDFium crash would
        with pytest.raises(RenderError, match=r"^the page could not be rendered \(the renderer stopped\)$"):
            renderer.render("alice", doc.id, 2)
        assert renderer.render("alice", doc.id, 2).width > 800
        assert len(ours()) == 1 and ours() != [pid]
    finally:
        renderer.close()
    assert ours() == []
