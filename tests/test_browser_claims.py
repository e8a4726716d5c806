"""Claim marks in the browser (issue 27): a sentence whose cited passage does not support it is
marked (a dotted underline, a faint background) with a title that says why and which passage was
checked, in English and in Japanese; a supported sentence is not marked; the marks come back when
the conversation is opened again; on a 390 px phone a tap shows the reason under the sentence. The
model's text stays text: a tag it writes is shown, never run. Real server, headless Chromium;
screenshots in test-artifacts/screenshots/claims-*.png for a person to look at."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.fixtures.llm_server import FakeOpenAIServer
from tests.fixtures.server import RunningServer, running_server
from tests.test_browser import LOGIN_JA, PDF, SCREENSHOTS, UI_TIMEOUT_MS, browser, ensure_uploaded, login, shot  # noqa: F401
from tests.test_claims_wiring import right_and_wrong

pytestmark = pytest.mark.browser

QUESTION = "Which natbib option gives superscript numbers for citations, like Nature?"
HOSTILE = 'Loading it with <img src=x onerror="window.__claimsPwned=1"> makes every citation 9999 pt high.'


def reply(messages: list[dict[str, Any]]) -> str:
    """A right sentence, the same sentence citing the wrong passage, and an uncited one holding a tag."""
    return f"{right_and_wrong(messages)} {HOSTILE}"


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with FakeOpenAIServer() as llm:
        llm.reply_fn = reply
        env = {"APP_LLM__API_BASE": llm.base_url, "APP_LLM__API_KEY": "sk-test", "APP_LLM__MODEL": "test-chat"}
        with running_server(tmp_path_factory.mktemp("browser-claims") / "data", env=env) as server:
            yield server


def _page(browser: Browser, locale: str, **options: Any) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(locale=locale, **options)
    context.set_default_timeout(UI_TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:  # noqa: F811
    yield from _page(browser, "en-US", viewport={"width": 1366, "height": 768})


@pytest.fixture
def desktop_ja(browser: Browser) -> Iterator[Page]:  # noqa: F811
    yield from _page(browser, "ja-JP", viewport={"width": 1366, "height": 768})


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:  # noqa: F811
    yield from _page(
        browser, "en-US", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2
    )


def marks(page: Page) -> list[dict[str, str]]:
    return page.evaluate("""() => [...document.querySelectorAll('#chatbot .claim')].map(e => ({
        cls: e.className, title: e.getAttribute('title') || '', text: e.innerText,
        line: getComputedStyle(e).textDecorationStyle, background: getComputedStyle(e).backgroundColor}))""")


def open_conversation(page: Page) -> None:
    """Open the (one) conversation from the list, behind the drawer on a phone."""
    toggle = page.locator("#drawer-toggle")
    if toggle.is_visible():
        toggle.click()
    page.locator("#conversations label").first.click()
    expect(page.locator("#chatbot .claim").first).to_be_visible(timeout=UI_TIMEOUT_MS)


def test_unsupported_sentences_are_marked_with_why_in_english_and_japanese(
    desktop: Page, desktop_ja: Page, phone: Page, app_server: RunningServer
) -> None:
    page = desktop
    login(page, app_server.url)
    ensure_uploaded(page, PDF)
    page.locator("#question textarea").fill(QUESTION)
    page.locator("#send").click()
    chat = page.locator("#chatbot")
    expect(chat.locator("details.sources summary")).to_have_count(1)
    expect(chat.locator(".claim").first).to_be_visible(timeout=UI_TIMEOUT_MS)
    found = marks(page)
    # the wrong citation and the uncited sentence; the right sentence is not marked
    assert [m["cls"] for m in found] == ["claim claim-unsupported", "claim claim-unsupported"], found
    wrong, uncited = found
    assert re.fullmatch(r"Not supported by its source\n.+\nChecked against passage \[\d\]", wrong["title"]), wrong
    assert wrong["text"].rstrip().endswith("].") and wrong["line"] == "dotted"
    assert wrong["background"] != "rgba(0, 0, 0, 0)"
    assert uncited["title"].endswith("No source cited: checked against this answer's sources"), uncited
    # the model's tag is text: shown as written, never an element, never run
    assert "<img src=x" in uncited["text"]
    assert chat.locator("img[src='x']").count() == 0
    assert page.evaluate("window.__claimsPwned") is None
    shot(page, "claims-01-desktop.png")
    page.locator("#chatbot .claim").first.hover()
    shot(page, "claims-02-desktop-hover.png")

    # opened again (a new page load), in Japanese: the stored claims, their reasons in Japanese
    page = desktop_ja
    login(page, app_server.url, chat_tab="チャット", labels=LOGIN_JA)
    open_conversation(page)
    ja = marks(page)
    assert [m["text"] for m in ja] == [m["text"] for m in found]
    assert re.fullmatch(r"出典が裏付けていない文です\n.+\n照合した出典: \[\d\]", ja[0]["title"]), ja[0]
    assert ja[1]["title"].endswith("出典の指定がありません（この回答の出典と照合）")
    shot(page, "claims-03-desktop-ja.png")

    # a phone has no hover: a tap on the sentence shows why under it
    page = phone
    login(page, app_server.url)
    open_conversation(page)
    mark = page.locator("#chatbot .claim").first
    mark.scroll_into_view_if_needed()
    before = mark.bounding_box()
    mark.tap()
    after = page.evaluate("getComputedStyle(document.querySelector('#chatbot .claim'), '::after').content")
    assert "Not supported by its source" in after, after
    assert (mark.bounding_box() or {})["height"] > (before or {})["height"]  # the reason takes its own line
    box = mark.bounding_box() or {}
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # within the phone's width
    # the chat box only: a full-page shot resizes the window, and the chat draws its messages anew
    page.locator("#chatbot").screenshot(path=str(SCREENSHOTS / "claims-04-phone-tap.png"))
    mark.tap()  # a second tap hides it again
    assert page.evaluate("getComputedStyle(document.querySelector('#chatbot .claim'), '::after').content") == "none"
