"""Refusals as a person meets them, in headless Chromium (issue 25): a refused action (an empty or too
long question, a reached quota, an admin's own-account or short-password mistake) is a warning toast
in the browser's language with everything on the page left as it was, and no traceback on the server;
a real failure is a red error with a reference, logged once. Deleting asks first in view, removing a
user names what goes; the limits form saves only what changed; sub-tabs and the status are fresh
after an action; toasts go away; the Japanese UI has no English labels left; Enter sends a feedback
comment; the usage plots label days as MM-DD. Screenshots: test-artifacts/screenshots/u1-*.png."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from tests.conftest import container_for, make_settings
from tests.fixtures import many_documents
from tests.fixtures.cli import run_app
from tests.fixtures.gradio_http import fn_index, run_event, signed_in
from tests.fixtures.llm_server import FakeOpenAIServer
from tests.fixtures.server import ADMIN, ROOT, RunningServer, running_server
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, LOGIN_EN, LOGIN_JA, fill_login

pytestmark = pytest.mark.browser

SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PDF = Path(__file__).parent / "data" / "natbib.pdf"
REPLY = "natbib prints superscript numbers for citations when loaded with the super option [1]."
QUESTION = "How do I get superscript citation numbers with natbib?"
QUINN = ("quinn", "quinns-long-password")  # one question a day
DORA = ("dora", "doras-long-password")  # a long documents table
VICTIM = ("victor", "victors-long-password")  # removed by the admin
COPIES = 30
UI_TIMEOUT_MS = 30_000
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        server.reply_fn = lambda messages: REPLY
        yield server


@pytest.fixture(scope="module")
def app_server(
    tmp_path_factory: pytest.TempPathFactory, llm: FakeOpenAIServer, local_embedder: object
) -> Iterator[RunningServer]:
    base = tmp_path_factory.mktemp("refusals")
    data_dir = base / "data"
    setup = container_for(make_settings(data_dir), local_embedder)  # type: ignore[arg-type]
    try:
        setup.users.add(ADMIN[0], ADMIN[1], is_admin=True)
        for name, password in (QUINN, DORA, VICTIM):
            setup.users.add(name, password)
        for owner in (ADMIN[0], QUINN[0], VICTIM[0]):
            assert setup.ingestion.ingest_file(owner, PDF).outcome == "ingested"
        templates = many_documents.ingest_templates(setup, DORA[0], many_documents.template_pdfs(base / "pdfs")[:1])
        many_documents.copy_documents(setup, DORA[0], templates, COPIES)
        setup.quotas.set_limits(QUINN[0], questions_per_day=1)
    finally:
        setup.close()
    env = {"APP_LLM__API_BASE": llm.base_url, "APP_LLM__API_KEY": "sk-test", "APP_LLM__MODEL": "test-chat"}
    with running_server(data_dir, env=env) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def _context(browser: Browser, request: pytest.FixtureRequest, server: RunningServer, locale: str) -> Iterator[Page]:
    context = browser.new_context(locale=locale, viewport=LAPTOP)
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


def sign_in(page: Page, server: RunningServer, user: tuple[str, str] = ADMIN, ja: bool = False) -> None:
    fill_login(page, server.url, *user, labels=LOGIN_JA if ja else LOGIN_EN)
    expect(page.locator("#whoami")).to_contain_text(user[0])


def shot(page: Page, name: str, full: bool = False) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"u1-{name}.png"), full_page=full)


def toasts(page: Page) -> Locator:
    return page.locator(".toast-body")


def ask(page: Page, question: str) -> None:
    page.locator("#question textarea").fill(question)
    page.locator("#send").click()


def question_box(page: Page) -> Locator:
    return page.locator("#question textarea")


def what_is_shown(page: Page) -> dict[str, str]:
    """Everything a refusal must leave as it was: the chat, the sources, the page view."""
    image = page.locator("#page-image img")
    return {
        "chat": page.locator("#chatbot").inner_text(),
        "sources": page.locator("#sources").first.inner_text() if page.locator("#sources").count() else "",
        "passage": page.locator("#passage").inner_text(),
        "image": (image.first.get_attribute("src") or "") if image.count() else "",
    }


def expect_no_error_badges(page: Page) -> None:
    """Gradio marks every output of a failed event with a red "Error" (the blanking of issue 25)."""
    for elem_id in ("#chatbot", "#page-image", "#passage", "#question", "#sources", "#admin-users"):
        expect(page.locator(elem_id).get_by_text("Error", exact=True)).to_have_count(0)
    expect(page.locator(".toast-body.error")).to_have_count(0)


def refusal(page: Page, title: str, text: str) -> None:
    """A warning toast with the localised title and reason."""
    toast = page.locator(".toast-body.warning", has_text=text)
    expect(toast).to_be_visible()
    expect(toast.locator("[data-testid=toast-text]").first).to_contain_text(title)
    heading = toast.locator(".toast-title").first  # Gradio's English "Warning": hidden
    assert heading.evaluate("e => e.getBoundingClientRect().width") < 1


def close_toasts(page: Page) -> None:
    for close in page.locator("[data-testid=toast-close]").all():
        if close.is_visible():
            close.click()
    expect(toasts(page)).to_have_count(0)


def answered(page: Page, answers: int) -> None:
    expect(page.locator("#chatbot").get_by_text("Sources")).to_have_count(answers)
    expect(page.locator("#passage")).to_contain_text(f"{PDF.name} — p. ")
    page.wait_for_timeout(800)  # the update after the answer (page view, list, usage line) has come


# ---- 1. refusals leave the page as it was, in the user's language, without a traceback ------------


def test_question_refusals_leave_the_chat_and_the_page_view_as_they_were(page: Page, app_server: RunningServer) -> None:
    tracebacks = app_server.log().count("Traceback")
    sign_in(page, app_server)
    ask(page, QUESTION)
    answered(page, 1)
    before = what_is_shown(page)
    assert "super option" in before["chat"] and before["image"] and PDF.name in before["passage"]

    question_box(page).fill("")
    page.locator("#send").click()  # an empty question
    refusal(page, "Not possible", "Type a question first.")
    expect_no_error_badges(page)
    assert what_is_shown(page) == before
    shot(page, "refused-empty-question")
    close_toasts(page)

    long_question = "x" * 4001
    question_box(page).fill(long_question)
    page.locator("#send").click()
    refusal(page, "Not possible", "Your question is 4001 characters long")
    expect(question_box(page)).to_have_value(long_question)  # kept, so it can be shortened
    expect_no_error_badges(page)
    assert what_is_shown(page) == before
    close_toasts(page)
    assert app_server.log().count("Traceback") == tracebacks, "a refusal printed a traceback"


def test_a_reached_quota_is_a_warning_and_keeps_the_question(page: Page, app_server: RunningServer) -> None:
    tracebacks = app_server.log().count("Traceback")
    sign_in(page, app_server, QUINN)
    ask(page, QUESTION)
    answered(page, 1)
    before = what_is_shown(page)
    second = "Which natbib option sorts numerical citations?"
    ask(page, second)
    toast = page.locator(".toast-body.warning", has_text="You have reached your limit of questions per day: 1")
    expect(toast).to_be_visible()
    expect(toast).to_contain_text("Limit reached")
    expect(question_box(page)).to_have_value(second)
    expect_no_error_badges(page)
    assert what_is_shown(page) == before
    page.wait_for_timeout(400)  # the toast has slid in
    shot(page, "refused-quota")
    assert app_server.log().count("Traceback") == tracebacks


def test_refusals_in_japanese(page_ja: Page, app_server: RunningServer) -> None:
    page = page_ja
    sign_in(page, app_server, ja=True)
    expect(page.get_by_role("tab", name="チャット")).to_be_visible()
    question_box(page).fill("")
    page.locator("#send").click()
    refusal(page, "できません", "質問を入力してください。")
    expect(page.locator(".toast-body", has_text="Warning")).to_have_count(1)  # in the DOM, hidden
    expect_no_error_badges(page)
    page.wait_for_timeout(400)
    shot(page, "refused-empty-question-ja")


def admin_form(page: Page, name: str, password: str = "") -> None:
    page.locator("#admin-name textarea, #admin-name input").first.fill(name)
    page.locator("#admin-password input, #admin-password textarea").first.fill(password)


@pytest.mark.parametrize(
    ("locale", "admin_tab", "texts"),
    [
        (
            "en-US",
            "Admin",
            (
                "Not possible",
                "the password must have at least 8 characters",
                "you cannot disable your own account",
                "you cannot take away your own admin rights",
            ),
        ),
        (
            "ja-JP",
            "管理",
            (
                "できません",
                "パスワードは 8 文字以上にしてください。",
                "自分のアカウントは無効にできません。",
                "自分の管理者権限は外せません。",
            ),
        ),
    ],
)
def test_admin_refusals_say_their_reason(
    browser: Browser, app_server: RunningServer, locale: str, admin_tab: str, texts: tuple[str, ...]
) -> None:
    context = browser.new_context(locale=locale, viewport=LAPTOP)
    context.set_default_timeout(UI_TIMEOUT_MS)
    try:
        page = context.new_page()
        tracebacks = app_server.log().count("Traceback")
        sign_in(page, app_server, ja=locale == "ja-JP")
        page.get_by_role("tab", name=admin_tab).click()
        expect(page.locator("#admin-users")).to_contain_text(QUINN[0])
        title, short, disable, revoke = texts
        admin_form(page, "zed", "abcde")
        page.locator("#admin-add").click()
        refusal(page, title, short)
        expect(page.locator("#admin-password input, #admin-password textarea").first).to_have_value("abcde")
        close_toasts(page)
        admin_form(page, ADMIN[0])
        page.locator("#admin-disable").click()
        refusal(page, title, disable)
        close_toasts(page)
        page.locator("#admin-revoke").click()
        refusal(page, title, revoke)
        expect(page.get_by_text("Please sign in first")).to_have_count(0)
        expect(page.get_by_text("先にログインしてください")).to_have_count(0)
        expect(page.locator("#admin-users")).to_contain_text(QUINN[0])  # the table is not blanked
        expect_no_error_badges(page)
        page.wait_for_timeout(400)
        shot(page, f"admin-refused-{locale}")
        assert app_server.log().count("Traceback") == tracebacks
        assert "zed" not in run_app(app_server.data_dir, "users", "list").stdout
    finally:
        context.close()


def test_a_failure_is_a_red_error_with_a_reference_logged_once(
    page: Page, app_server: RunningServer, llm: FakeOpenAIServer
) -> None:
    sign_in(page, app_server)
    page.get_by_role("button", name="New chat").click()
    llm.fail_next(3, 500, endpoint="chat")
    try:
        ask(page, "Which command prints the bibliography with natbib?")
        error = page.locator(".toast-body.error")
        expect(error).to_contain_text("HTTP 500")
        text = error.inner_text()
        shot(page, "failure-with-reference")
    finally:
        llm.reset()
        llm.reply_fn = lambda messages: REPLY
    found = re.search(r"\(ref ([0-9a-f]+)\)", text)
    assert found, text
    assert "Error" in text  # its title, in the message
    log = app_server.log()
    assert log.count(f"ui handler failed ref={found.group(1)}") == 1, "not logged exactly once"


def test_a_script_still_gets_a_refusal_as_the_events_error(app_server: RunningServer) -> None:
    """The warning is for a person in a browser; gradio_client and curl keep a failed call (and
    the server prints no traceback for it either)."""
    tracebacks = app_server.log().count("Traceback")
    quinn = signed_in(app_server, *QUINN)
    result = run_event(quinn, fn_index(quinn, "ask"), ["", [], None, []])
    assert (result.success, result.error) == (False, "Type a question first.")
    browser_like = signed_in(app_server, *QUINN)
    browser_like.headers["Origin"] = app_server.url
    result = run_event(browser_like, fn_index(browser_like, "ask"), ["", [], None, []])
    assert result.success
    warnings = [m for m in result.messages if m.get("msg") == "log" and m.get("level") == "warning"]
    assert warnings and "Type a question first." in warnings[0]["log"] and "Not possible" in warnings[0]["log"]
    assert result.output[0] == {"__type__": "update"}  # the chat is not touched
    assert app_server.log().count("Traceback") == tracebacks


# ---- 2. deleting asks first, in view -------------------------------------------------------------


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1366x768", "390x844"])
def test_the_delete_confirmation_opens_where_the_click_was(
    browser: Browser, app_server: RunningServer, viewport: dict[str, int]
) -> None:
    context = browser.new_context(locale="en-US", viewport=viewport)
    context.set_default_timeout(UI_TIMEOUT_MS)
    try:
        page = context.new_page()
        sign_in(page, app_server, DORA)
        page.get_by_role("tab", name="Documents").click()
        rows = page.locator("#documents").get_by_role("row", name=re.compile(r"doc-\d+\.pdf"))
        expect(rows.first).to_be_visible()
        rows.last.scroll_into_view_if_needed()  # the table's last row, at the bottom of the page
        name = click_delete(page, rows.last)
        confirm = page.locator("#confirm-delete").first
        expect(confirm).to_contain_text(f"Delete {name}?")
        assert in_viewport(page, confirm), "the confirmation opened out of sight"
        assert in_viewport(page, page.locator("#delete-doc")) and in_viewport(page, page.locator("#cancel-delete"))
        shot(page, f"confirm-delete-{viewport['width']}")
        page.locator("#cancel-delete").click()
        expect(confirm).to_be_hidden()
        expect(page.locator("#documents").get_by_role("row", name=re.compile(re.escape(name)))).to_have_count(1)
        if viewport == LAPTOP:  # confirmed, it is deleted
            name = click_delete(page, rows.first)
            expect(confirm).to_contain_text(f"Delete {name}?")
            page.locator("#delete-doc").click()
            expect(confirm).to_be_hidden()
            expect(page.locator("#documents").get_by_role("row", name=re.compile(re.escape(name)))).to_have_count(0)
    finally:
        context.close()


def click_delete(page: Page, row: Locator) -> str:
    """Click the delete cell of a row of the documents table; the row's document name. The table
    renders the rows in sight only: the row is pinned by its index before it is read and clicked."""
    index = row.get_by_role("gridcell").first.get_attribute("data-row")
    table = page.locator("#documents")
    name = table.locator(f"[data-testid=cell-{index}-0]").inner_text().strip()
    table.locator(f"[data-testid=cell-{index}-4]").click()
    return name


def in_viewport(page: Page, locator: Locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    assert box and size
    return box["y"] >= 0 and box["x"] >= 0 and box["y"] + box["height"] <= size["height"] and box["width"] > 0


def test_removing_a_user_asks_first_naming_what_goes(page: Page, app_server: RunningServer) -> None:
    victim = signed_in(app_server, *VICTIM)
    asked = run_event(victim, fn_index(victim, "ask"), [QUESTION, [], None, []])
    assert asked.success, asked.error
    sign_in(page, app_server)
    page.get_by_role("tab", name="Admin").click()
    expect(page.locator("#admin-users")).to_contain_text(VICTIM[0])
    admin_form(page, VICTIM[0])
    page.locator("#admin-remove").click()
    confirm = page.locator("#confirm-remove-user").first
    expect(confirm).to_contain_text(f"Remove the user {VICTIM[0]}")
    expect(confirm).to_contain_text("their 1 document and 1 conversation")
    assert in_viewport(page, confirm)
    shot(page, "confirm-remove-user")
    page.locator("#admin-remove-no").click()  # cancel: nothing is deleted
    expect(confirm).to_be_hidden()
    assert VICTIM[0] in run_app(app_server.data_dir, "users", "list").stdout
    page.locator("#admin-remove").click()
    expect(confirm).to_be_visible()
    admin_form(page, QUINN[0])  # the form changed meanwhile: the named user goes, not this one
    page.locator("#admin-remove-yes").click()
    expect(page.locator("#admin-result")).to_contain_text(f"{VICTIM[0]} removed with 1 documents")
    expect(confirm).to_be_hidden()
    expect(page.locator("#admin-users")).not_to_contain_text(VICTIM[0])
    users = run_app(app_server.data_dir, "users", "list").stdout
    assert VICTIM[0] not in users and QUINN[0] in users


# ---- 3. smaller ----------------------------------------------------------------------------------


def limits_source(server: RunningServer, user: str) -> dict[str, str]:
    """`quotas show`: per limit, "user" (an override) or "config"."""
    shown = run_app(server.data_dir, "quotas", "show", user).stdout
    return dict(re.findall(r"^\s+(\w+)\s+\S+\s+\((user|config)\)", shown, re.MULTILINE))


def test_saving_limits_writes_only_the_changed_one_and_updates_the_status(
    page: Page, app_server: RunningServer
) -> None:
    sign_in(page, app_server)
    page.get_by_role("tab", name="Usage").click()
    status = page.locator("#usage-status")
    expect(status).to_contain_text("questions per day")
    user = page.locator("#usage-admin").get_by_label("User")
    user.fill(ADMIN[0])
    user.press("Enter")
    field = page.locator("#limit-questions_per_day textarea, #limit-questions_per_day input").first
    tokens = page.locator("#limit-tokens_per_day textarea, #limit-tokens_per_day input").first
    expect(tokens).not_to_have_value("")  # the form shows the current limits
    field.fill("40")
    page.locator("#save-limits").click()
    expect(page.locator("#limits-saved")).to_contain_text(f"Limits of {ADMIN[0]} saved.")
    expect(status).to_contain_text(re.compile(r"questions per day: \d+ / 40 — \d+ left"))  # no refresh needed
    sources = limits_source(app_server, ADMIN[0])
    assert sources["questions_per_day"] == "user"
    assert {k for k, v in sources.items() if v == "user"} == {"questions_per_day"}, sources  # the rest follow config
    page.locator("#save-limits").click()  # saved again unchanged: nothing more becomes an override
    expect(page.locator("#limits-saved")).to_contain_text("No limit of admin was changed.")
    assert {k for k, v in limits_source(app_server, ADMIN[0]).items() if v == "user"} == {"questions_per_day"}
    shot(page, "limits-saved", full=True)


def test_the_audit_view_is_fresh_when_its_sub_tab_opens(page: Page, app_server: RunningServer) -> None:
    sign_in(page, app_server)
    page.get_by_role("tab", name="Admin").click()
    page.get_by_role("tab", name="Audit log").click()
    audit = page.locator("#admin-audit")
    expect(audit).to_contain_text("login")
    page.get_by_role("tab", name="Users").click()
    admin_form(page, "newbie", "newbies-long-password")
    page.locator("#admin-add").click()
    expect(page.locator("#admin-result")).to_contain_text("User newbie added")
    page.get_by_role("tab", name="Audit log").click()  # no refresh clicked
    expect(audit).to_contain_text("newbie")


def test_toasts_go_away(page: Page, app_server: RunningServer) -> None:
    sign_in(page, app_server)
    page.locator("#send").click()
    expect(toasts(page)).to_have_count(1)
    expect(toasts(page)).to_have_count(0, timeout=9_500)  # the refusal's 8 s (Gradio's default was 10)


def test_feedback_comment_is_sent_with_enter(page: Page, app_server: RunningServer) -> None:
    sign_in(page, app_server)
    page.get_by_role("button", name="New chat").click()
    ask(page, "Which natbib option gives numbered citations?")
    answered(page, 1)
    page.locator("#chatbot").get_by_role("button", name="Dislike").last.click()
    box = page.locator("#feedback-box").first
    expect(box).to_be_visible()
    text = page.locator("#feedback-text textarea")
    text.click()
    text.type("The page cited is about")
    text.press("Shift+Enter")
    text.type("author-year citations.")
    expect(text).to_have_value("The page cited is about\nauthor-year citations.")
    expect(box).to_be_visible()  # Shift+Enter only added a line
    text.press("Enter")
    expect(box).to_be_hidden()
    expect(page.locator(".toast-body.info")).to_contain_text("feedback was saved")
    page.get_by_role("tab", name="Admin").click()
    page.get_by_role("tab", name="Feedback").click()
    expect(page.locator("#admin-feedback")).to_contain_text("author-year citations.")


def test_usage_plots_label_days_month_day(page: Page, app_server: RunningServer) -> None:
    sign_in(page, app_server)
    page.get_by_role("tab", name="Usage").click()
    plot = page.locator("#usage-questions")
    expect(plot.locator("canvas, svg").first).to_be_visible()
    for plot_id in ("#usage-questions", "#usage-tokens", "#usage-cost"):
        expect(page.locator(plot_id).locator("canvas, svg").first).to_be_visible()
    ticks = plot.locator("svg text").filter(has_text=re.compile(r"^\d\d-\d\d$"))
    expect(ticks.first).to_be_visible()
    page.wait_for_timeout(500)
    page.locator("#usage-questions").locator("xpath=..").screenshot(path=str(SCREENSHOTS / "u1-usage-plots.png"))
    # The labels drawn (the axis hides, with opacity 0, the ones that would overlap).
    boxes = [
        b
        for t in ticks.all()
        if t.evaluate("e => getComputedStyle(e).opacity !== '0' && e.getAttribute('opacity') !== '0'")
        and (b := t.bounding_box())
    ]
    assert len(boxes) >= 3, plot.locator("svg text").all_text_contents()
    boxes.sort(key=lambda b: b["x"])
    assert all(a["x"] + a["width"] <= b["x"] for a, b in pairwise(boxes)), "the day labels overlap"


# ---- the Japanese UI ---------------------------------------------------------------------------

# Labels that were English in the Japanese UI (walked tab by tab before this change).
ENGLISH = [
    "questions_per_day",
    "tokens_per_day",
    "storage_mb",
    "questions (30 d)",
    "storage MB",
    "outcome",
    "Not possible",
]


def visible_text(page: Page) -> str:
    """The page's text, without the system view's configuration (data: its keys are config keys)."""
    return page.evaluate(
        """() => {
        const all = document.querySelector('.gradio-container').innerText;
        const data = document.querySelector('#admin-system');
        return data ? all.replace(data.innerText, '') : all;
    }"""
    )


def test_the_japanese_ui_has_no_english_labels_left(page_ja: Page, app_server: RunningServer) -> None:
    page = page_ja
    sign_in(page, app_server, ja=True)
    seen = []
    for tab, sub_tabs in (
        ("チャット", []),
        ("文書", []),
        ("設定", []),
        ("利用状況", []),
        ("管理", ["ユーザー", "システム", "監査ログ", "フィードバック"]),
    ):
        page.get_by_role("tab", name=tab, exact=True).click()
        page.wait_for_timeout(800)
        seen.append(visible_text(page))
        for sub in sub_tabs:
            page.get_by_role("tab", name=sub, exact=True).click()
            page.wait_for_timeout(800)
            seen.append(visible_text(page))
        shot(page, f"ja-{tab}", full=True)
    text = "\n".join(seen)
    left = [word for word in ENGLISH if word in text]
    assert not left, left
    assert "1日の質問数" in text and "イベント" in text and "容量 MB" in text
