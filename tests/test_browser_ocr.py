"""A scanned PDF in the browser (issue 26): uploaded, its page recognised while the upload list says
so, counted in the documents table, cited with a note that its text was recognised, and shown in
the page view with the passage highlighted. Real server, real OCR engine, headless Chromium.
Screenshots go to test-artifacts/screenshots/ for a person to look at."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.fixtures.llm_server import FakeOpenAIServer
from tests.fixtures.scans import Scan, make_scan
from tests.fixtures.server import RunningServer, running_server
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, click_marker, login, shot

pytestmark = pytest.mark.browser

SCAN = Scan("natbib-p10", "natbib.pdf", (10,))  # "2.6 Citation Aliasing"
QUESTION = "How do I define a citation alias such as Paper I?"
REPLY = "Define the alias with \\defcitealias and cite it with \\citetalias or \\citepalias [1]."
OCR_TIMEOUT_MS = 600_000  # one page recognised on two cores shared with other tests: seconds to minutes
UI_TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with FakeOpenAIServer() as llm:
        llm.reply_fn = lambda _messages: REPLY
        env = {
            "APP_LLM__API_BASE": llm.base_url,
            "APP_LLM__API_KEY": "sk-test",
            "APP_LLM__MODEL": "test-chat",
            "APP_DOCUMENTS__OCR_PAGE_TIMEOUT_S": "900",  # a loaded machine must not turn the page away
        }
        with running_server(tmp_path_factory.mktemp("browser-ocr") / "data", env=env) as server:
            yield server


@pytest.fixture
def page(app_server: RunningServer) -> Iterator[Page]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser: Browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 1000})
        context.set_default_timeout(UI_TIMEOUT_MS)
        yield context.new_page()
        context.close()
        browser.close()


def test_a_scanned_pdf_is_recognised_cited_and_highlighted(
    page: Page, app_server: RunningServer, tmp_path: Path
) -> None:
    scan = tmp_path / "scanned-aliases.pdf"
    scan.write_bytes(make_scan(SCAN).read_bytes())
    login(page, app_server.url)

    page.get_by_role("tab", name="Documents").click()
    page.locator("#files input[type=file]").set_input_files(scan)
    jobs = page.locator("#jobs")
    expect(jobs).to_contain_text("recognising page 1/1", timeout=OCR_TIMEOUT_MS)
    shot(page, "ocr-01-recognising.png")
    expect(jobs).to_contain_text(re.compile(r"\bdone\b"), timeout=OCR_TIMEOUT_MS)
    cells = page.locator("#documents tr", has_text=scan.name).locator("td")
    expect(cells.nth(1)).to_have_text("1 (1 recognised)")
    expect(cells.nth(2)).to_have_text("ready")
    shot(page, "ocr-02-documents.png")

    page.get_by_role("tab", name="Chat").click()
    page.locator("#question textarea").fill(QUESTION)
    page.locator("#send").click()
    chat = page.locator("#chatbot")
    expect(chat.get_by_text("Sources")).to_have_count(1)
    expect(page.locator("#sources")).to_contain_text(f"[1] {scan.name} p.1")
    # The answer's source list says the page's text was recognised, so the reader checks the image.
    chat.locator("details.sources summary").click()
    sources = chat.locator("details.sources")
    expect(sources).to_contain_text(f"[1] {scan.name} — p. 1 · text recognised from the page image — check the image")
    shot(page, "ocr-03-answer-sources.png")

    click_marker(page, 0, "[1]")
    image = page.locator("#page-image img")
    expect(image).to_be_visible()
    # The page is shown with the passage highlighted: its box travels in the image's name.
    src = image.get_attribute("src") or ""
    mark = re.search(r"page-1\.mark-(\d+)-(\d+)-(\d+)-(\d+)\.webp", src)
    assert mark, src
    left, top, right, bottom = map(int, mark.groups())
    width, height = page.evaluate("img => [img.naturalWidth, img.naturalHeight]", image.element_handle())
    assert 0 <= left < right <= width and 0 <= top < bottom <= height
    assert bottom - top < height / 2  # a passage, not the whole page
    expect(page.locator("#passage")).to_contain_text(f"{scan.name} — p. 1")
    # Beside the image too: the quoted text was recognised, so it is checked against the image.
    expect(page.locator("#passage")).to_contain_text("text recognised from the page image — check the image")
    expect(page.locator(".toast-body")).to_have_count(0)
    page.locator("#page-image").locator("xpath=..").screenshot(path=str(SCREENSHOTS / "ocr-04-cited-page.png"))
