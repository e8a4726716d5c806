"""End-to-end tests in headless Chromium: log in through the real form, upload a PDF, watch an answer
stream in with its sources, open the cited page, and see the interface follow the browser's language.

One app server (and one test LLM server) is shared by the module; each test has its own browser context.
Screenshots go to test-artifacts/screenshots/ for a person to look at."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

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


def unfold_sources(page: Page) -> None:
    """Open each answer's sources, folded under it into one "Sources (n)" line (issue 25)."""
    folded = page.locator("#chatbot details.sources:not([open]) > summary")
    while folded.count():
        folded.first.click()


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
    unfold_sources(page)
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
    unfold_sources(page)
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
    """Click exactly on the text `marker` (e.g. "[1]") inside the answer-th bot message, once it
    stays put (the page view and the conversation list that arrive after an answer can move the
    text between finding the marker and clicking it)."""

    def find() -> dict[str, float] | None:
        return page.evaluate(
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

    point = find()
    for _ in range(20):
        page.wait_for_timeout(250)
        again = find()
        if again == point:
            break
        point = again
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
    page.locator("#chatbot details.sources > summary").last.click()  # the second answer's, already shown

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
    page.locator("#conversations").get_by_text(conversation[:40]).first.click()
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


def current_conversation(page: Page) -> Locator:
    """The highlighted (open) item of the conversation list."""
    return page.locator("#conversations label:has(input:checked)")


def click_settled(locator: Locator, quiet_ms: int = 150, timeout_ms: int = 5000) -> None:
    """Click once the element has stopped moving. A list above it that re-wraps after an update
    (a long title renamed to a short one) moves it a frame or two after the new text shows; under
    CPU load a click at the old place landed beside the button and nothing happened (seen: the
    Delete button 19 px higher 30 ms after the renamed title appeared)."""
    last = locator.bounding_box()
    for _ in range(timeout_ms // quiet_ms):
        locator.page.wait_for_timeout(quiet_ms)
        box = locator.bounding_box()
        if box == last:
            break
        last = box
    locator.click()


def new_chat_and_ask(page: Page, question: str) -> None:
    page.get_by_role("button", name="New chat").click()
    expect(page.locator("#chatbot").get_by_text("Sources")).to_have_count(0)
    page.locator("#question textarea").fill(question)
    page.locator("#send").click()
    expect(page.locator("#chatbot").get_by_text("Sources")).to_have_count(1)


def test_conversations_in_the_sidebar_open_rename_and_delete_in_place(page: Page, app_server: RunningServer) -> None:
    """Newest first with the first question as title, the open one highlighted; one click opens a
    conversation with its messages and last sources; rename and delete happen in the list."""
    first, second = "Can natbib print citations as superscripts?", "Which natbib option sorts numerical citations?"
    login(page, app_server.url)
    ensure_uploaded(page, PDF)
    new_chat_and_ask(page, first)
    expect(current_conversation(page)).to_have_text(first)
    new_chat_and_ask(page, second)
    items = page.locator("#conversations label")
    expect(items.first).to_have_text(second)  # newest first
    expect(current_conversation(page)).to_have_text(second)
    assert items.count() >= 2

    # One click opens the older one: its question and answer, its sources in the page view.
    # Settled first: the answer's last update re-renders the list and the page view beside it (once,
    # under the load of a full parallel run, this click sent no event at all).
    click_settled(page.locator("#conversations").get_by_text(first, exact=True))
    chat = page.locator("#chatbot")
    expect(chat).to_contain_text(first)
    expect(chat).not_to_contain_text(second)
    expect(current_conversation(page)).to_have_text(first)
    expect(page.locator("#passage")).to_contain_text(f"{PDF.name} — p. ")
    shot(page, "18-conversation-list.png")

    # Rename in place: the box is filled with the current title; Enter saves.
    page.locator("#rename-chat").click()
    title = page.locator("#new-title textarea, #new-title input").first
    expect(title).to_have_value(first)
    title.fill("Superscript citations")
    title.press("Enter")
    expect(current_conversation(page)).to_have_text("Superscript citations")
    expect(page.locator("#rename-box").first).to_be_hidden()

    # Delete in place asks first; cancel keeps it, confirm removes it and empties the chat.
    click_settled(page.locator("#delete-chat"))  # the shorter title has just shrunk the list above it
    confirm = page.locator("#confirm-chat-delete").first
    expect(confirm).to_contain_text("Superscript citations")
    shot(page, "19-conversation-delete-confirm.png")
    page.locator("#delete-chat-no").click()
    expect(confirm).to_be_hidden()
    expect(page.locator("#conversations")).to_contain_text("Superscript citations")
    page.locator("#delete-chat").click()
    page.locator("#delete-chat-yes").click()
    expect(page.locator("#conversations")).not_to_contain_text("Superscript citations")
    expect(chat).not_to_contain_text(first)
    expect(page.locator(".toast-body")).to_have_count(0)


STOP_QUESTION = "What does the super option of natbib change?"  # not asked before: not cached
LONG_REPLY = " ".join(f"Word{i} of a long answer about natbib [1]." for i in range(80))


def bot_messages(page: Page) -> Locator:
    return page.locator("#chatbot .message-row.bot-row, #chatbot .bot-row")


def test_the_page_view_never_shows_an_earlier_answers_page_under_a_new_or_stopped_one(
    page: Page, app_server: RunningServer, llm: FakeOpenAIServer
) -> None:
    """An answer with sources, then one that is stopped: as soon as the second starts the page view
    and source list of the first are gone, and after the stop they stay empty (they had come back,
    showing the first answer's page under the stopped one)."""
    login(page, app_server.url)
    ensure_uploaded(page, PDF)
    new_chat_and_ask(page, "Which natbib option gives numbered citations in superscript?")
    expect(page.locator("#passage")).to_contain_text(f"{PDF.name} — p. ")
    llm.reply_fn = lambda messages: LONG_REPLY
    try:
        page.locator("#question textarea").fill("What else does the super option of natbib change?")
        page.locator("#send").click()
        chat = page.locator("#chatbot")
        expect(chat).to_contain_text("Word3 of a long answer")
        expect(page.locator("#passage")).not_to_contain_text(PDF.name)  # cleared with the first words
        page.locator("#stop").click()
        expect(chat).to_contain_text("(stopped)")
    finally:
        llm.reply_fn = reply
    page.wait_for_timeout(1500)  # the update that follows an answer has come and gone
    assert PDF.name not in page.locator("#passage").inner_text()
    expect(page.locator("#page-image img")).to_have_count(0)
    expect(page.locator("#sources")).to_be_hidden()
    shot(page, "27-stopped-answer-page-view.png")


def test_stop_keeps_the_partial_answer_retry_asks_again_copy_and_feedback(
    page: Page, app_server: RunningServer, llm: FakeOpenAIServer
) -> None:
    """Stop ends a streaming answer at once (no error shown), the partial answer stays marked as
    stopped (also when the conversation is reopened); retry asks the question again; copy gives the
    answer as plain text; a thumbs-down with a comment reaches the admins' feedback list."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    login(page, app_server.url)
    ensure_uploaded(page, PDF)
    page.get_by_role("button", name="New chat").click()
    chat = page.locator("#chatbot")
    llm.reply_fn = lambda messages: LONG_REPLY
    try:
        page.locator("#question textarea").fill(STOP_QUESTION)
        page.locator("#send").click()
        expect(chat).to_contain_text("Word3 of a long answer")
        start_recording_chat(page)
        page.locator("#stop").click()
        expect(chat).to_contain_text("(stopped)")
    finally:
        llm.reply_fn = reply
    shown = chat.inner_text()
    page.wait_for_timeout(1500)
    assert chat.inner_text() == shown, "the answer kept streaming after stop"
    assert "Word79" not in shown and "Sources" not in shown
    expect(page.locator(".toast-body")).to_have_count(0)
    expect(chat.get_by_text("Error", exact=True)).to_have_count(0)
    texts: list[str] = page.evaluate("window.__chatTexts")
    assert not [t for t in texts if "Error" in t], "the chat showed an error while stopping"
    expect(current_conversation(page)).to_have_text(STOP_QUESTION)  # kept, and open
    shot(page, "20-stopped-answer.png")

    # Reopened, the conversation shows the partial answer, marked as stopped.
    page.get_by_role("button", name="New chat").click()
    expect(chat).not_to_contain_text("(stopped)")
    page.locator("#conversations").get_by_text(STOP_QUESTION, exact=True).first.click()
    expect(chat).to_contain_text("(stopped)")

    # Retry: the same question again, its answer in place of the stopped one.
    bot_messages(page).last.hover()
    page.locator("#chatbot").get_by_role("button", name="Retry").click()
    expect(chat.get_by_text("Sources")).to_have_count(1)
    expect(chat).not_to_contain_text("(stopped)")
    expect(chat.get_by_text(STOP_QUESTION, exact=True)).to_have_count(1)
    expect(bot_messages(page)).to_have_count(1)

    # Copy: the answer's text without its Markdown.
    bot_messages(page).last.hover()
    chat.get_by_role("button", name="Copy message").last.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "super option" in copied and PDF.name in copied
    assert "**" not in copied and "\n> " not in copied and "---" not in copied, copied

    # Feedback: thumbs down opens a comment box; the comment reaches the admin's list.
    dislike = chat.get_by_role("button", name="Dislike").last
    unrated = dislike.inner_html()
    dislike.click()
    box = page.locator("#feedback-box").first
    expect(box).to_be_visible()
    page.locator("#feedback-text textarea").fill("The cited page is about author-year citations.")
    shot(page, "21-feedback-comment.png")
    page.locator("#feedback-send").click()
    expect(box).to_be_hidden()
    expect(page.locator(".toast-body")).to_contain_text("feedback was saved")
    rated = dislike.inner_html()
    assert rated != unrated
    # Reopened later, the answer still shows its thumbs-down.
    page.get_by_role("button", name="New chat").click()
    expect(chat).not_to_contain_text("super option")
    page.locator("#conversations").get_by_text(STOP_QUESTION, exact=True).first.click()
    expect(chat.get_by_text("Sources")).to_have_count(1)
    expect(chat.get_by_role("button", name="Dislike").last).to_have_js_property("innerHTML", rated)
    page.get_by_role("tab", name="Admin").click()
    page.get_by_role("tab", name="Feedback").click()
    table = page.locator("#admin-feedback")
    expect(table).to_contain_text("The cited page is about author-year citations.")
    expect(table).to_contain_text(STOP_QUESTION)
    expect(table).to_contain_text(f"{PDF.name} p.")
    expect(table).to_contain_text("not helpful")
    shot(page, "22-admin-feedback.png")


def test_enter_sends_shift_enter_adds_a_line_and_both_layouts_fit(page: Page, app_server: RunningServer) -> None:
    """Keyboard: Shift+Enter adds a line, Enter sends. Layouts: 1366x768 and a 390 px phone, where
    nothing overflows sideways and the page view sits below the chat."""
    page.set_viewport_size({"width": 1366, "height": 768})
    login(page, app_server.url)
    ensure_uploaded(page, PDF)
    page.get_by_role("button", name="New chat").click()
    box = page.locator("#question textarea")
    box.click()
    box.type("Which natbib option")
    box.press("Shift+Enter")
    box.type("gives superscript numbers?")
    expect(box).to_have_value("Which natbib option\ngives superscript numbers?")
    expect(page.locator("#chatbot")).not_to_contain_text("Which natbib option")  # not sent yet
    box.press("Enter")
    expect(page.locator("#chatbot").get_by_text("Sources")).to_have_count(1)
    expect(page.locator("#chatbot")).to_contain_text("gives superscript numbers?")
    expect(box).to_have_value("")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    # The answer's page arrives as an image file after the answer: loaded and drawn, not just placed.
    image = page.locator("#page-image img")
    expect(image).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 500", arg=image.element_handle())
    page.screenshot(path=str(SCREENSHOTS / "23-layout-1366x768.png"))

    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(500)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "sideways overflow"
    chat_box = page.locator("#chatbot").bounding_box()
    view_box = page.locator("#page-image").bounding_box()
    assert chat_box and view_box and view_box["y"] >= chat_box["y"] + chat_box["height"] - 1, "page view not below"
    assert chat_box["width"] <= 390
    # Conversation titles never overlap, however many there are (the list scrolls instead).
    boxes = [b for b in (item.bounding_box() for item in page.locator("#conversations label").all()) if b]
    assert all(a["y"] + a["height"] <= b["y"] + 1 for a, b in pairwise(boxes)), boxes
    shot(page, "24-layout-390-phone.png")


@pytest.fixture(scope="module")
def retrieval_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The app without a language model: answers are the best passages."""
    with running_server(tmp_path_factory.mktemp("retrieval") / "data") as server:
        yield server


@pytest.fixture
def retrieval_page(browser: Browser, request: pytest.FixtureRequest, retrieval_server: RunningServer) -> Iterator[Page]:
    yield from _context(browser, request, retrieval_server, "en-US")


def test_retrieval_only_says_so_once_and_lists_the_best_passages(
    retrieval_page: Page, retrieval_server: RunningServer
) -> None:
    page = retrieval_page
    login(page, retrieval_server.url)
    banner = page.locator("#retrieval-only")
    expect(banner).to_contain_text("Retrieval only")
    expect(banner).to_have_count(1)
    ensure_uploaded(page, PDF)
    for n, question in enumerate((QUESTION, "How are author-year citations sorted?")):
        page.locator("#question textarea").fill(question)
        page.locator("#send").click()
        expect(page.locator("#chatbot").get_by_text("Best passages")).to_have_count(n + 1)
    answer = bot_messages(page).last
    text = answer.inner_text()
    assert "Answer generation is off" not in text  # said once above the chat, not in every answer
    entries = re.findall(r"\[(\d+)\] " + re.escape(PDF.name) + r" — p\. \d+", text)
    assert 1 <= len(entries) <= 5 and entries[0] == "1", text
    expect(page.locator("#sources label")).to_have_count(len(entries))  # the same passages beside the chat
    assert len(text) < 1500, "a short list, not a long answer"
    expect(page.locator("#page-image img")).to_be_visible()
    # A passage's [n] opens its page beside the chat.
    if len(entries) > 1:
        click_marker(page, 1, f"[{entries[1]}]")
        expect(page.locator("#sources input:checked").locator("xpath=..")).to_contain_text(f"[{entries[1]}] ")
    expect(page.locator("#passage")).to_contain_text(f"{PDF.name} — p. ")
    expect(page.locator(".toast-body")).to_have_count(0)
    shot(page, "25-retrieval-only.png")

    # The chat's clear button starts a new chat: nothing open, the next question a new conversation.
    page.locator("#chatbot").get_by_role("button", name="Clear").click()
    expect(bot_messages(page)).to_have_count(0)
    expect(page.locator("#conversations label:has(input:checked)")).to_have_count(0)

    # A Japanese browser gets the banner in Japanese.
    ja = page.context.browser.new_context(locale="ja-JP")  # type: ignore[union-attr]
    try:
        page_ja = ja.new_page()
        login(page_ja, retrieval_server.url, chat_tab="チャット", labels=LOGIN_JA)
        expect(page_ja.locator("#retrieval-only")).to_contain_text("検索のみ")
        shot(page_ja, "26-retrieval-only-japanese.png")
    finally:
        ja.close()
