"""End-to-end tests in headless Chromium: log in through the real form, upload a PDF, watch an answer
stream in with its sources, open the cited page, and see the interface follow the browser's language.

One app server (and one test LLM server) is shared by the module; each test has its own browser context.
Screenshots go to test-artifacts/screenshots/ for a person to look at."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.fixtures.llm_server import FakeOpenAIServer
from tests.fixtures.server import ADMIN, ROOT, RunningServer, running_server

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PDF = Path(__file__).parent / "data" / "natbib.pdf"
REPLY = "natbib prints superscript numbers for citations when it is loaded with the super option [1]."
QUESTION = "How do I get superscript citation numbers with natbib?"
# Waits are on conditions; these are only upper bounds for a slow CI machine.
INGEST_TIMEOUT_MS = 120_000
UI_TIMEOUT_MS = 30_000

if not CHROMIUM.exists():  # part of the test environment: missing means failing, not skipping
    pytest.fail(
        "needs /usr/bin/chromium (Debian package 'chromium'; `make test` installs it through `make system-deps`)",
        pytrace=False,
    )


def reply(messages: list[dict[str, str]]) -> str:
    """REPLY to a question; a follow-up is "condensed" to itself, as a real model would do."""
    last = str(messages[-1]["content"])
    if last.rstrip().endswith("Standalone question:"):
        return last.split("Last user message:", 1)[1].split("\n", 1)[0].strip()
    return REPLY


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        server.reply_fn = reply
        server.stream_chunk_delay = 0.08  # slow enough that the chat visibly grows word by word
        yield server


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory, llm: FakeOpenAIServer) -> Iterator[RunningServer]:
    env = {"APP_LLM__API_BASE": llm.base_url, "APP_LLM__API_KEY": "sk-test", "APP_LLM__MODEL": "test-chat"}
    with running_server(tmp_path_factory.mktemp("browser") / "data", env=env) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _context(browser: Browser, request: pytest.FixtureRequest, server: RunningServer, locale: str) -> Iterator[Page]:
    """A fresh browser context; on failure, keep a screenshot and the server log next to the others."""
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.new_page()
    failed_before = request.session.testsfailed
    yield page
    if request.session.testsfailed > failed_before:
        page.screenshot(path=str(SCREENSHOTS / f"FAILED-{request.node.name}.png"), full_page=True)
        shutil.copyfile(server.log_file, SCREENSHOTS / f"FAILED-{request.node.name}-server.log")
    context.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest, app_server: RunningServer) -> Iterator[Page]:
    yield from _context(browser, request, app_server, "en-US")


@pytest.fixture
def page_ja(browser: Browser, request: pytest.FixtureRequest, app_server: RunningServer) -> Iterator[Page]:
    yield from _context(browser, request, app_server, "ja-JP")


LOGIN_EN = ("username", "password", "Login")
LOGIN_JA = ("ユーザー名", "パスワード", "ログイン")


def fill_login(page: Page, url: str, username: str, password: str, labels: tuple[str, str, str] = LOGIN_EN) -> None:
    """Sign in through Gradio's own login form, found by its labels (they follow the browser's language)."""
    page.goto(url)
    page.get_by_label(labels[0], exact=True).fill(username)
    page.get_by_label(labels[1], exact=True).fill(password)
    page.get_by_role("button", name=labels[2], exact=True).click()


def login(page: Page, url: str, chat_tab: str = "Chat", labels: tuple[str, str, str] = LOGIN_EN) -> None:
    fill_login(page, url, *ADMIN, labels=labels)
    expect(page.get_by_role("tab", name=chat_tab)).to_be_visible()
    expect(page.locator("#whoami")).to_contain_text(ADMIN[0])


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


RAW_KEY = re.compile(r"__i18n__|\b(?:tab|chat|docs|settings)\.[a-z_]+\b")


def assert_translated(page: Page) -> None:
    """No translation key (e.g. "chat.send") or raw gr.I18n object is shown instead of its text."""
    shown = RAW_KEY.findall(page.locator("body").inner_text())
    assert not shown, f"untranslated labels: {shown}"


def start_recording_chat(page: Page) -> None:
    """Record every text the chat shows, as the browser renders it (no polling gaps)."""
    page.evaluate("""() => {
        const chat = document.querySelector('#chatbot');
        window.__chatTexts = [];
        new MutationObserver(() => window.__chatTexts.push(chat.innerText))
            .observe(chat, {childList: true, subtree: true, characterData: true});
    }""")


def test_login_upload_ask_and_open_the_cited_page(page: Page, app_server: RunningServer) -> None:
    page.goto(app_server.url)
    expect(page.get_by_label("password", exact=True)).to_be_visible()
    shot(page, "01-login.png")
    login(page, app_server.url)

    page.get_by_role("tab", name="Documents").click()
    page.locator("#files input[type=file]").set_input_files(PDF)  # choosing the file starts the upload
    expect(page.locator("#jobs")).to_contain_text(PDF.name)
    expect(page.locator("#jobs")).to_contain_text(re.compile(r"\bdone\b"), timeout=INGEST_TIMEOUT_MS)
    expect(page.locator("#jobs")).not_to_contain_text("failed")
    cells = page.locator("#documents tr", has_text=PDF.name).locator("td")
    expect(cells.nth(1)).to_have_text("26")  # pages
    expect(cells.nth(2)).to_have_text("ready")
    expect(cells.nth(4)).to_contain_text("delete")
    # name, pages, status, uploaded, delete: no internal ids
    expect(page.locator("#documents").get_by_role("columnheader")).to_have_count(5)
    expect(page.locator("#documents")).not_to_contain_text(re.compile(r"\b[0-9a-f]{32}\b"))
    assert_translated(page)
    shot(page, "02-documents-after-upload.png")

    page.get_by_role("tab", name="Chat").click()
    page.locator("#question textarea").fill(QUESTION)
    start_recording_chat(page)
    page.locator("#send").click()

    chat = page.locator("#chatbot")
    expect(chat).to_contain_text("Sources", timeout=UI_TIMEOUT_MS)
    final = chat.inner_text()
    assert "super option" in final
    sources = final.split("Sources", 1)[1]
    assert PDF.name in sources
    pages = re.findall(r"\bp\. (\d+)\b", sources)
    assert pages and all(1 <= int(n) <= 26 for n in pages), sources

    # The answer arrived in pieces: the chat showed at least two different partial answers first.
    texts: list[str] = page.evaluate("window.__chatTexts")
    partial = {t for t in texts if "natbib prints" in t and "super option" not in t and "Sources" not in t}
    assert len(partial) >= 2, f"the answer did not stream; the chat showed: {texts!r}"
    expect(page.locator("#question textarea")).to_have_value("")
    shot(page, "03-chat-streamed-answer.png")

    # The first source is selected by itself: its page is rendered and its passage quoted.
    expect(page.locator("#sources input:checked").locator("xpath=..")).to_contain_text(
        re.compile(rf"\[1\] {re.escape(PDF.name)} p\.\d+")
    )
    image = page.locator("#page-image img")
    expect(image).to_be_visible()
    assert page.evaluate("img => img.naturalWidth > 300 && img.naturalHeight > 300", image.element_handle())
    passage = page.locator("#passage")
    expect(passage).to_contain_text(f"{PDF.name} — p. {pages[0]}")
    quoted = passage.locator("blockquote")
    expect(quoted).to_be_visible()
    assert len(quoted.inner_text().split()) >= 10
    expect(page.locator(".toast-body")).to_have_count(0)
    page.locator("#page-image").locator("xpath=..").screenshot(path=str(SCREENSHOTS / "04-cited-page.png"))


def test_wrong_password_is_refused(page: Page, app_server: RunningServer) -> None:
    fill_login(page, app_server.url, ADMIN[0], "not-the-password")
    expect(page.get_by_text(re.compile("incorrect credentials", re.IGNORECASE))).to_be_visible()
    expect(page.get_by_label("password", exact=True)).to_be_visible()
    expect(page.get_by_role("tab", name="Chat")).to_have_count(0)
    shot(page, "05-login-refused.png")
    page.goto(app_server.url)  # a reload does not get past the login either
    expect(page.get_by_label("password", exact=True)).to_be_visible()
    expect(page.locator("#chatbot")).to_have_count(0)


def test_japanese_browser_gets_japanese_labels(page_ja: Page, app_server: RunningServer) -> None:
    page_ja.goto(app_server.url)
    expect(page_ja.get_by_label(LOGIN_JA[1], exact=True)).to_be_visible()
    shot(page_ja, "06-japanese-login.png")
    login(page_ja, app_server.url, chat_tab="チャット", labels=LOGIN_JA)
    expect(page_ja.get_by_role("tab", name="文書")).to_be_visible()
    expect(page_ja.get_by_role("tab", name="設定")).to_be_visible()
    expect(page_ja.locator("#send")).to_have_text("送信")
    assert_translated(page_ja)
    shot(page_ja, "07-japanese-ui.png")
    page_ja.get_by_role("tab", name="文書").click()
    expect(page_ja.locator("#files")).to_contain_text("PDF をアップロード")
    expect(page_ja.locator("#documents")).to_contain_text("アップロード日時")
    shot(page_ja, "08-japanese-documents.png")


def test_sources_name_the_section_of_a_pdf_with_an_outline(page: Page, app_server: RunningServer) -> None:
    """hyperref-doc.pdf has bookmarks: the cited passage is shown with its chapter and section."""
    outlined = PDF.parent / "hyperref-doc.pdf"
    login(page, app_server.url)
    page.get_by_role("tab", name="Documents").click()
    page.locator("#files input[type=file]").set_input_files(outlined)
    status = page.locator("#documents tr", has_text=outlined.name).locator("td").nth(2)
    expect(status).to_have_text("ready", timeout=INGEST_TIMEOUT_MS)

    page.get_by_role("tab", name="Chat").click()
    page.locator("#question textarea").fill("Which hyperref option makes the PDF open in full screen mode?")
    page.locator("#send").click()
    chat = page.locator("#chatbot")
    expect(chat).to_contain_text("Sources", timeout=UI_TIMEOUT_MS)
    sources = chat.inner_text().split("Sources", 1)[1]
    # "[1] hyperref-doc.pdf — p. 16 · 5 Package options > 5.7 PDF display ..." (no raw fusion score)
    assert re.search(r"hyperref-doc\.pdf — p\. \d+ · \d+ [^·\n]+\n", sources), sources
    assert "score" not in sources
    expect(page.locator("#passage")).to_contain_text(re.compile(r"hyperref-doc\.pdf — p\. \d+ · \d+ "))
    shot(page, "09-sources-with-section.png")


def ensure_uploaded(page: Page, pdf: Path) -> None:
    """The PDF is among the user's ready documents (uploaded here unless an earlier test did)."""
    page.get_by_role("tab", name="Documents").click()
    rows = page.locator("#documents").get_by_role("row", name=re.compile(re.escape(pdf.name)))
    page.wait_for_timeout(1500)  # the documents table is filled by the first timer tick
    row = rows.first
    if rows.count() == 0:
        page.locator("#files input[type=file]").set_input_files(pdf)
    expect(row).to_contain_text("ready", timeout=INGEST_TIMEOUT_MS)
    page.get_by_role("tab", name="Chat").click()


def ask_about(page: Page, pdf: Path, question: str, answers_before: int) -> None:
    """Ask with only `pdf` in scope; wait until the new answer has its sources."""
    scope = page.locator("#scope")
    for box in scope.locator("label").all():
        checkbox = box.locator("input")
        if checkbox.is_checked() != (box.inner_text().strip() == pdf.name):
            checkbox.click()
    page.locator("#question textarea").fill(question)
    page.locator("#send").click()
    expect(page.locator("#chatbot").get_by_text("Sources")).to_have_count(answers_before + 1)


def page_view(page: Page) -> tuple[str, str]:
    """What the page view shows: the image's source and the passage's heading line."""
    src = page.locator("#page-image img").get_attribute("src") or ""
    return src, page.locator("#passage").inner_text().split("\n", 1)[0]


def click_marker(page: Page, answer: int, marker: str) -> None:
    """Click exactly on the text `marker` (e.g. "[1]") inside the answer-th bot message."""
    point = page.evaluate(
        """([answer, marker]) => {
            const bots = [...document.querySelectorAll('#chatbot .message-row.bot-row, #chatbot .bot-row')];
            const root = bots[answer];
            const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                const at = node.textContent.indexOf(marker);
                if (at < 0) continue;
                node.parentElement.scrollIntoView({block: 'center'});
                const range = document.createRange();
                range.setStart(node, at + 1);
                range.setEnd(node, at + 2);
                const r = range.getBoundingClientRect();
                return {x: r.left + r.width / 2, y: r.top + r.height / 2};
            }
            return null;
        }""",
        [answer, marker],
    )
    assert point, f"no {marker} in answer {answer}"
    page.mouse.click(point["x"], point["y"])


def test_page_view_follows_each_answer_and_citations_open_their_page(page: Page, app_server: RunningServer) -> None:
    """Two answers in a row from different PDFs: the page and passage beside the chat are always the
    newest answer's first source; a click on a [n] marker of the older answer opens its page; a
    reopened conversation shows its last answer's source."""
    outlined = PDF.parent / "hyperref-doc.pdf"
    login(page, app_server.url)
    ensure_uploaded(page, PDF)
    ensure_uploaded(page, outlined)
    page.get_by_role("button", name="New chat").click()
    passage = page.locator("#passage")

    ask_about(page, PDF, QUESTION, 0)
    expect(passage).to_contain_text(f"{PDF.name} — p. ")
    expect(page.locator("#page-image img")).to_be_visible()
    first = page_view(page)

    ask_about(page, outlined, "Which hyperref option makes the PDF open in full screen mode?", 1)
    expect(passage).to_contain_text(f"{outlined.name} — p. ")
    expect(page.locator("#sources input:checked").locator("xpath=..")).to_contain_text(f"[1] {outlined.name}")
    second = page_view(page)
    assert second[0] != first[0], "the page image is still the previous answer's"
    shot(page, "13-second-answer-page-view.png")

    # The [1] in the first answer's text opens the first answer's source again.
    click_marker(page, 0, "[1]")
    expect(passage).to_contain_text(f"{PDF.name} — p. ")
    expect(page.locator("#sources")).to_contain_text(f"[1] {PDF.name}")
    assert page_view(page)[0] != second[0]
    shot(page, "14-clicked-citation.png")
    # The "[1] hyperref-doc.pdf — p. N" line of the second answer's source list opens that source.
    click_marker(page, 1, "[1] ")
    expect(page.locator("#sources input:checked").locator("xpath=..")).to_contain_text(f"[1] {outlined.name}")
    expect(passage).to_contain_text(f"{outlined.name} — p. ")
    assert page_view(page)[0] == second[0]

    # Another conversation and back: the page view is the reopened conversation's last source.
    conversation = page.locator("#chatbot").get_by_text(QUESTION).inner_text()
    page.get_by_role("button", name="New chat").click()
    expect(passage).to_have_text("")
    page.get_by_label("Conversations").click()
    page.get_by_role("option", name=conversation[:40]).first.click()
    expect(page.locator("#chatbot").get_by_text("Sources")).to_have_count(2)
    expect(passage).to_contain_text(f"{outlined.name} — p. ")
    expect(page.locator(".toast-body")).to_have_count(0)
    shot(page, "15-reopened-conversation.png")


def test_a_row_delete_asks_first_then_removes_the_document(page: Page, app_server: RunningServer) -> None:
    """Each document row has a delete cell; it asks before deleting, and cancel keeps the document."""
    login(page, app_server.url)
    victim = PDF.parent / "natbib.pdf"
    ensure_uploaded(page, victim)
    page.get_by_role("tab", name="Documents").click()
    rows = page.locator("#documents").get_by_role("row", name=re.compile(re.escape(victim.name)))
    rows.first.get_by_role("gridcell").nth(4).click()
    confirm = page.locator("#confirm-delete").first  # a Group carries its id twice
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text(f"Delete {victim.name}?")
    page.locator("#cancel-delete").click()
    expect(confirm).to_be_hidden()
    expect(rows).to_have_count(1)

    rows.first.get_by_role("gridcell").nth(4).click()
    expect(confirm).to_be_visible()
    shot(page, "16-confirm-row-delete.png")
    page.locator("#delete-doc").click()
    expect(rows).to_have_count(0)
    expect(confirm).to_be_hidden()
    expect(page.locator("#documents")).not_to_contain_text(re.compile(r"\b[0-9a-f]{32}\b"))
    shot(page, "17-after-row-delete.png")
