"""The chat page as people see it, in headless Chromium at 1366x768 and on a 390x844 phone, in English
and Japanese: the newest question and the start of its answer stay in the chat box while the answer
streams (its sources folded under it); the cited page is wide enough to read, its highlighted passage
scrolled into sight, and zooms where it is clicked; on a phone the question box and the latest answer
are on the first screen, a tapped [n] shows its page over the chat, every tab is in sight and no table
makes the page scroll sideways. Screenshots go to test-artifacts/screenshots/layout-*.png."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from tests.fixtures.cli import run_app
from tests.fixtures.llm_server import FakeOpenAIServer
from tests.fixtures.server import ADMIN, ROOT, RunningServer, running_server
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, LOGIN_EN, LOGIN_JA, fill_login

pytestmark = pytest.mark.browser

SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PDF = Path(__file__).parent / "data" / "natbib.pdf"
QUESTION = "How do I get superscript citation numbers with natbib?"
# Longer than the chat box is high, at 1366x768 and on a phone: it has to be scrolled to be read.
ANSWER = " ".join(
    f"Sentence {i} says that natbib prints superscript numbers with the super option [1]." for i in range(24)
)
UI_TIMEOUT_MS = 30_000
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def reply(messages: list[dict[str, str]]) -> str:
    """ANSWER to a question; a follow-up is "condensed" to itself, as a real model would do."""
    last = str(messages[-1]["content"])
    if last.rstrip().endswith("Standalone question:"):
        return last.split("Last user message:", 1)[1].split("\n", 1)[0].strip()
    return ANSWER


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        server.reply_fn = reply
        server.stream_chunk_delay = 0.02  # a few seconds of streaming: the chat is watched as it grows
        yield server


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory, llm: FakeOpenAIServer) -> Iterator[RunningServer]:
    data_dir = tmp_path_factory.mktemp("browser-layout") / "data"
    env = {"APP_LLM__API_BASE": llm.base_url, "APP_LLM__API_KEY": "sk-test", "APP_LLM__MODEL": "test-chat"}
    created = run_app(data_dir, "users", "add", ADMIN[0], "--admin", stdin=ADMIN[1] + "\n", env=env)
    assert created.returncode == 0, created.stderr
    ingested = run_app(data_dir, "ingest", str(PDF), "--user", ADMIN[0], env=env)
    assert ingested.returncode == 0, ingested.stderr
    with running_server(data_dir, env=env) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("needs /usr/bin/chromium (Debian package 'chromium'; `make system-deps` installs it)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_app(
    browser: Browser, request: pytest.FixtureRequest, server: RunningServer, viewport: dict[str, int], locale: str
) -> Iterator[Page]:
    """A signed-in page in a fresh context; on failure a screenshot of what was on screen."""
    context = browser.new_context(locale=locale, viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.new_page()
    fill_login(page, server.url, *ADMIN, labels=LOGIN_JA if locale == "ja-JP" else LOGIN_EN)
    expect(page.locator("#whoami")).to_contain_text(ADMIN[0])
    failed_before = request.session.testsfailed
    yield page
    if request.session.testsfailed > failed_before:
        page.screenshot(path=str(SCREENSHOTS / f"FAILED-{request.node.name}.png"))
    context.close()


@pytest.fixture
def desktop(browser: Browser, request: pytest.FixtureRequest, app_server: RunningServer) -> Iterator[Page]:
    yield from open_app(browser, request, app_server, DESKTOP, "en-US")


@pytest.fixture(params=["en-US", "ja-JP"])
def phone(browser: Browser, request: pytest.FixtureRequest, app_server: RunningServer) -> Iterator[Page]:
    yield from open_app(browser, request, app_server, PHONE, request.param)


def japanese(page: Page) -> bool:
    return page.evaluate("navigator.language") == "ja-JP"


def ask(page: Page, question: str) -> None:
    answers = page.locator("#chatbot details.sources").count()
    page.locator("#question textarea").fill(question)
    page.locator("#send").click()
    expect(page.locator("#chatbot details.sources")).to_have_count(answers + 1, timeout=UI_TIMEOUT_MS)


# Whether the chat box shows the newest question and its answer's first line, measured two frames
# after each change of the chat (what the reader sees once it is painted).
WATCH_CHAT = """() => {
  const seen = window.__inView = [];
  const measure = () => {
    const wrap = document.querySelector('#chatbot .bubble-wrap');
    const box = wrap.getBoundingClientRect();
    const rows = wrap.querySelectorAll('.message-row');
    const questions = wrap.querySelectorAll('.message-row.user-row');
    const question = questions[questions.length - 1];
    const answer = rows[rows.length - 1];
    if (!question || answer === question) return;
    let line = null;
    const walker = document.createTreeWalker(answer, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      line = range.getClientRects()[0];
      break;
    }
    if (!line) return;
    const inside = (r) => r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
    seen.push({question: inside(question.getBoundingClientRect()), line: inside(line),
               text: answer.innerText.length, questions: questions.length, top: wrap.scrollTop,
               at: Math.round(question.getBoundingClientRect().top - box.top), t: Math.round(performance.now())});
  };
  new MutationObserver(() => requestAnimationFrame(() => requestAnimationFrame(measure)))
    .observe(document.querySelector('#chatbot'), {childList: true, subtree: true, characterData: true});
  window.__measureChat = measure;
}"""


def watch_chat(page: Page) -> None:
    page.evaluate(WATCH_CHAT)


def chat_views(page: Page, questions: int) -> list[dict[str, Any]]:
    """What was measured while the `questions`-th question was the newest, and once more now."""
    page.evaluate("window.__measureChat()")
    return [v for v in page.evaluate("window.__inView") if v["questions"] == questions]


def assert_in_view(views: list[dict[str, Any]]) -> None:
    assert len(views) >= 5, f"the answer was not seen streaming: {views}"
    assert views[-1]["text"] > 1500, "the last measure is of the whole answer"
    hidden = [v for v in views if not (v["question"] and v["line"])]
    assert not hidden, f"{len(hidden)} of {len(views)} views lost the question or the answer's start: {hidden[:5]}"


def yellow_rows(png: bytes) -> tuple[int, int, int]:
    """The first and last rows with the highlight's yellow, and the height, of a screenshot."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    width, height = image.size
    pixels = list(image.getdata())
    rows = [y for y in range(height) if sum(_yellow(pixels[y * width + x]) for x in range(0, width, 2)) > 10]
    return (rows[0], rows[-1], height) if rows else (-1, -1, height)


def _yellow(rgb: Any) -> bool:
    r, g, b = rgb
    return bool(r > 225 and g > 200 and b < 200 and r - b > 45)


def page_box(page: Page) -> Locator:
    """The scrolling box the cited page is shown in."""
    return page.locator("#page-image .image-container")


def assert_highlight_in_view(page: Page, name: str) -> None:
    """The highlighted passage is shown whole in the page box (no yellow cut at its edges), within
    a few seconds of the page's image having loaded."""
    box = page_box(page)
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 500", arg=page.locator("#page-image img").element_handle()
    )
    for _ in range(20):
        first, last, height = yellow_rows(box.screenshot(path=str(SCREENSHOTS / name)))
        if first > 2 and last < height - 3:
            break
        page.wait_for_timeout(250)
    assert first >= 0, "no highlighted passage in sight"
    assert first > 2 and last < height - 3, f"the highlight is cut by the box's edge: rows {first}-{last} of {height}"


# ---- 1366x768 -----------------------------------------------------------------------------------------


def test_the_newest_question_and_the_start_of_its_answer_stay_in_the_chat_box(desktop: Page) -> None:
    """Two long answers in a row: during and after each, the question and its answer's first line are
    inside the chat box (the box used to scroll to the bottom as the answer grew, and the sources
    listed under it pushed it further); the sources are folded under the answer into one line that
    opens to the same entries, and a click on one opens its page."""
    page = desktop
    page.locator("#new-chat").click()
    watch_chat(page)
    ask(page, QUESTION)
    assert_in_view(chat_views(page, 1))
    ask(page, "What does the super option of natbib change?")
    assert_in_view(chat_views(page, 2))
    page.screenshot(path=str(SCREENSHOTS / "layout-01-chat-in-view-1366.png"))

    sources = page.locator("#chatbot details.sources").last
    expect(sources.locator("summary")).to_have_text(re.compile(r"^Sources \(\d\)$"))
    expect(sources).not_to_have_attribute("open", "")
    entry = sources.locator("p", has_text=PDF.name)
    expect(entry).to_be_hidden()
    sources.locator("summary").click()
    expect(entry).to_be_visible()
    expect(entry).to_contain_text(re.compile(rf"\[1\] {re.escape(PDF.name)} — p\. \d+"))
    expect(sources.locator("blockquote")).to_be_visible()  # the quote, as before
    page.screenshot(path=str(SCREENSHOTS / "layout-02-sources-opened-1366.png"))
    # A click on the source (not only on its [1]) opens its page beside the chat.
    entry.locator("strong").click()
    expect(page.locator("#passage")).to_contain_text(f"{PDF.name} — p. ")
    expect(page.locator(".toast-body")).to_have_count(0)


def test_the_cited_page_is_wide_its_passage_in_sight_and_it_zooms_where_clicked(desktop: Page) -> None:
    page = desktop
    page.locator("#new-chat").click()
    ask(page, QUESTION)
    image = page.locator("#page-image img")
    expect(image).to_be_visible()
    assert_highlight_in_view(page, "layout-03-cited-page-1366.png")
    width = image.bounding_box()["width"]  # type: ignore[index]
    assert width >= 600, f"the page is {width:.0f} px wide"
    view = page_box(page).bounding_box()
    assert view and view["y"] + view["height"] <= DESKTOP["height"], "the page box reaches below the window"
    page.screenshot(path=str(SCREENSHOTS / "layout-04-page-view-1366.png"))

    # A click zooms in to the page's own pixels, keeping the point clicked under the pointer.
    x, y = view["x"] + view["width"] / 2, view["y"] + view["height"] / 2
    under = page.evaluate("([x, y]) => document.elementFromPoint(x, y).tagName", [x, y])
    assert under == "IMG"
    before = page.evaluate(
        """([x, y]) => { const img = document.querySelector('#page-image img'); const r = img.getBoundingClientRect();
        return [(x - r.left) / r.width, (y - r.top) / r.height]; }""",
        [x, y],
    )
    page.mouse.click(x, y)
    page.wait_for_function("() => document.querySelector('#page-image img').clientWidth > 900")
    after = page.evaluate(
        """([x, y]) => { const img = document.querySelector('#page-image img'); const r = img.getBoundingClientRect();
        return [(x - r.left) / r.width, (y - r.top) / r.height]; }""",
        [x, y],
    )
    assert abs(after[0] - before[0]) < 0.02 and abs(after[1] - before[1]) < 0.02, (before, after)
    page.screenshot(path=str(SCREENSHOTS / "layout-05-page-zoomed-1366.png"))
    page.mouse.click(x, y)
    page.wait_for_function(f"() => Math.abs(document.querySelector('#page-image img').clientWidth - {width}) < 2")


# ---- 390x844, English and Japanese ---------------------------------------------------------------------


def in_viewport(box: Any) -> bool:
    """The element's box is wholly inside the phone's screen."""
    if not box:
        return False
    right, bottom = box["x"] + box["width"], box["y"] + box["height"]
    return bool(box["x"] >= 0 and box["y"] >= 0 and right <= PHONE["width"] and bottom <= PHONE["height"])


def test_a_phone_shows_the_question_box_and_the_latest_answer_first(phone: Page) -> None:
    """The first screen: the question box and, once asked, the question and its answer's start; the
    conversations and the document picker behind one button above the chat."""
    page = phone
    ja = japanese(page)
    expect(page.locator("#question textarea")).to_be_visible()
    assert in_viewport(page.locator("#question").bounding_box()), "the question box is below the first screen"
    expect(page.locator("#conversations")).to_be_hidden()
    expect(page.locator("#scope")).to_be_hidden()
    toggle = page.locator("#drawer-toggle")
    expect(toggle).to_have_text("会話と検索対象の文書" if ja else "Conversations and documents")
    assert in_viewport(toggle.bounding_box())

    watch_chat(page)
    # Not asked before (a cached answer arrives whole): the answer streams on the first screen.
    ask(page, f"Which natbib option gives superscript citation numbers ({'ja' if ja else 'en'})?")
    assert_in_view(chat_views(page, 1))
    assert page.evaluate("window.scrollY") == 0, "the page itself scrolled"
    for element in ("#question", "#chatbot"):
        assert in_viewport(page.locator(element).bounding_box()), f"{element} is not on the first screen"
    expect(page.locator("#chatbot details.sources summary").last).to_have_text(
        re.compile(r"^出典 \(\d\)$" if ja else r"^Sources \(\d\)$")
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(SCREENSHOTS / f"layout-10-phone-first-screen-{'ja' if ja else 'en'}.png"))

    # The button opens the conversations and the picker; opening a conversation closes them again.
    toggle.click()
    expect(page.locator("#conversations")).to_be_visible()
    expect(page.locator("#scope")).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.screenshot(path=str(SCREENSHOTS / f"layout-11-phone-drawer-{'ja' if ja else 'en'}.png"))
    page.locator("#conversations label").first.click()
    expect(page.locator("#conversations")).to_be_hidden()
    expect(page.locator("#chatbot details.sources")).to_have_count(1)
    assert in_viewport(page.locator("#question").bounding_box())


def test_a_tapped_citation_shows_its_page_over_the_chat(phone: Page) -> None:
    page = phone
    ja = japanese(page)
    ask(page, QUESTION)
    close = page.locator("#page-close")
    expect(close).to_be_hidden()
    # Tap exactly on a "[1]" in the answer's text.
    point = page.evaluate(
        """() => {
        const rows = document.querySelectorAll('#chatbot .message-row.bot-row');
        const walker = document.createTreeWalker(rows[rows.length - 1], NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          const at = node.textContent.indexOf('[1]');
          if (at < 0) continue;
          const range = document.createRange();
          range.setStart(node, at + 1);
          range.setEnd(node, at + 2);
          const r = range.getBoundingClientRect();
          if (r.top < 0 || r.bottom > innerHeight) continue;
          return {x: r.left + r.width / 2, y: r.top + r.height / 2};
        }
        return null;
    }"""
    )
    assert point, "no [1] on the first screen"
    page.mouse.click(point["x"], point["y"])
    expect(close).to_be_visible()
    expect(close).to_have_text("ページを閉じる" if ja else "Close the page")
    image = page.locator("#page-image img")
    expect(image).to_be_visible()
    assert in_viewport(close.bounding_box())
    view = page_box(page).bounding_box()
    assert view and view["y"] >= 0 and view["y"] + view["height"] <= PHONE["height"], view
    assert_highlight_in_view(page, f"layout-12-phone-page-box-{'ja' if ja else 'en'}.png")
    shown = "img => img.clientWidth >= img.naturalWidth - 1"
    assert page.evaluate(shown, image.element_handle()), "the page over the chat is not at its own pixels"
    expect(page.locator("#passage")).to_contain_text(f"{PDF.name} — p. ")
    page.screenshot(path=str(SCREENSHOTS / f"layout-13-phone-page-over-chat-{'ja' if ja else 'en'}.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    close.click()
    expect(close).to_be_hidden()
    assert not page.evaluate(shown, image.element_handle()), "the page below the chat is not back to its width"
    assert in_viewport(page.locator("#question").bounding_box())
    expect(page.locator("#chatbot")).to_be_in_viewport()


def test_a_phone_has_every_tab_in_sight_and_no_table_pushes_the_page_sideways(phone: Page) -> None:
    page = phone
    ja = japanese(page)
    names = (
        ["チャット", "文書", "設定", "利用状況", "管理"] if ja else ["Chat", "Documents", "Settings", "Usage", "Admin"]
    )
    for name in names:
        tab = page.get_by_role("tab", name=name, exact=True)
        expect(tab).to_be_visible()
        assert in_viewport(tab.bounding_box()), f"tab {name} is out of sight"
    tag = "ja" if ja else "en"

    page.get_by_role("tab", name=names[1], exact=True).click()
    documents = page.locator("#documents")
    expect(documents).to_contain_text(PDF.name)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for table in ("#documents", "#jobs"):
        box = page.locator(table).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (table, box)
    # The delete cell: the table scrolls inside its own box to it, and a tap on it asks first.
    delete = documents.get_by_role("row", name=re.compile(re.escape(PDF.name))).get_by_role("gridcell").nth(4)
    delete.scroll_into_view_if_needed()
    assert in_viewport(delete.bounding_box()), "the delete cell cannot be reached"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(SCREENSHOTS / f"layout-14-phone-documents-{tag}.png"), full_page=True)
    delete.click()
    confirm = page.locator("#confirm-delete").first
    expect(confirm).to_be_visible()
    expect(confirm).to_be_in_viewport()
    page.locator("#cancel-delete").click()
    expect(confirm).to_be_hidden()
    expect(documents).to_contain_text(PDF.name)

    for index, (name, table) in enumerate(((names[3], "#usage-users"), (names[4], "#admin-users")), start=15):
        page.get_by_role("tab", name=name, exact=True).click()
        expect(page.locator(table)).to_contain_text(ADMIN[0])
        box = page.locator(table).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (table, box)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
        page.screenshot(path=str(SCREENSHOTS / f"layout-{index}-phone-{table[1:]}-{tag}.png"), full_page=True)
    page.get_by_role("tab", name=names[2], exact=True).click()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
