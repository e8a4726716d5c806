"""In headless Chromium: a question over the daily limit shows which limit, its value and when it
resets; the Usage tab shows the plots and today's use against the limits; an admin raises a limit and
exports the usage as CSV. Screenshots go to test-artifacts/screenshots/ (10-*.png onwards)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.fixtures.cli import run_app
from tests.fixtures.llm_server import FakeOpenAIServer
from tests.fixtures.server import ADMIN, ROOT, RunningServer, running_server
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, LOGIN_EN, fill_login

pytestmark = pytest.mark.browser

SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PDF = Path(__file__).parent / "data" / "natbib.pdf"
UI_TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        server.reply_fn = lambda messages: "Load natbib with the super option [1]."
        yield server


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory, llm: FakeOpenAIServer) -> Iterator[RunningServer]:
    data_dir = tmp_path_factory.mktemp("browser-usage") / "data"
    env = {
        "APP_LLM__API_BASE": llm.base_url,
        "APP_LLM__API_KEY": "sk-test",
        "APP_LLM__MODEL": "gpt-4o-mini",
        "APP_QUOTAS__QUESTIONS_PER_DAY": "2",
        "APP_QUOTAS__RESET_TIMEZONE": "Asia/Tokyo",
    }
    created = run_app(data_dir, "users", "add", ADMIN[0], "--admin", stdin=ADMIN[1] + "\n", env=env)
    assert created.returncode == 0, created.stderr
    ingested = run_app(data_dir, "ingest", str(PDF), "--user", ADMIN[0], env=env)
    assert ingested.returncode == 0, ingested.stderr
    with running_server(data_dir, env=env) as server:
        yield server


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(UI_TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("needs /usr/bin/chromium (Debian package 'chromium'; `make system-deps` installs it)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def ask(page: Page, question: str) -> None:
    page.locator("#question textarea").fill(question)
    page.locator("#send").click()


def quota_changes(server: RunningServer, wait_s: float = 10) -> list[dict[str, object]]:
    """The audit log's quota.changed lines (the log is written by a background sink: wait for one)."""
    deadline = time.monotonic() + wait_s
    while True:
        audit_file = server.data_dir / "logs" / "audit.log"
        lines = audit_file.read_text().splitlines() if audit_file.exists() else []
        changed = [json.loads(line) for line in lines if '"quota.changed"' in line]
        if changed or time.monotonic() > deadline:
            return changed
        time.sleep(0.2)


def test_refusal_message_usage_tab_and_admin_limits(
    page: Page, app_server: RunningServer, llm: FakeOpenAIServer
) -> None:
    fill_login(page, app_server.url, *ADMIN, labels=LOGIN_EN)
    expect(page.get_by_role("tab", name="Chat")).to_be_visible()
    chat = page.locator("#chatbot")
    ask(page, "Which option gives superscript citation numbers?")
    expect(chat).to_contain_text("Sources")
    page.get_by_role("button", name="New chat").click()
    expect(chat).not_to_contain_text("Sources")
    ask(page, "How do I get author-year citations?")
    expect(chat).to_contain_text("Sources")
    assert llm.counts["chat"] == 2

    page.get_by_role("button", name="New chat").click()
    expect(chat).not_to_contain_text("Sources")
    ask(page, "Which command prints the bibliography?")
    toast = page.locator(".toast-body")
    expect(toast).to_contain_text("You have reached your limit of questions per day: 2")
    expect(toast).to_contain_text(re.compile(r"It resets on \d{4}-\d\d-\d\d 00:00 \(Asia/Tokyo\)"))
    assert llm.counts["chat"] == 2  # the refused question never reached the model
    expect(toast).to_be_visible()
    page.wait_for_timeout(500)  # let the toast finish sliding in before the picture
    page.screenshot(path=str(SCREENSHOTS / "10-quota-refused.png"))  # the viewport: the toast is fixed there

    page.get_by_role("tab", name="Usage").click()
    status = page.locator("#usage-status")
    expect(status).to_contain_text("questions per day: 2 / 2 — 0 left")
    expect(status).to_contain_text("(Asia/Tokyo)")
    expect(status).to_contain_text(re.compile(r"documents: [1-9]\d* \(unlimited\)"))  # what is kept now
    for plot in ("#usage-questions", "#usage-tokens", "#usage-cost"):
        expect(page.locator(plot).locator("canvas, svg").first).to_be_visible()
    users = page.locator("#usage-users")
    expect(users).to_contain_text(ADMIN[0])
    page.screenshot(path=str(SCREENSHOTS / "11-usage-tab.png"), full_page=True)

    # The admin raises their own daily limit in the tab; the next question is answered.
    page.locator("#usage-admin").get_by_label("User").fill(ADMIN[0])
    page.locator("#usage-admin").get_by_label("User").press("Enter")
    field = page.locator("#limit-questions_per_day textarea, #limit-questions_per_day input").first
    expect(field).to_have_value("2")  # the user's current limits are loaded into the form
    field.fill("5")
    page.locator("#save-limits").click()
    expect(page.locator("#limits-saved")).to_contain_text(f"Limits of {ADMIN[0]} saved.")
    # Audited like `quotas set`, with the admin who changed it as the actor.
    changed = quota_changes(app_server)
    assert changed and changed[-1]["actor"] == ADMIN[0] and changed[-1]["target"] == ADMIN[0], changed
    assert changed[-1]["limits"] == "questions_per_day=5", changed  # only the limit changed in the form is saved
    page.locator("#usage-csv").click()
    link = page.locator("#usage-csv-file a[href*='usage.csv']")
    expect(link).to_be_visible()
    csv = page.request.get(str(link.get_attribute("href"))).text()
    assert csv.startswith("user,day,model,kind,calls,prompt_tokens,completion_tokens,cost")
    assert f"{ADMIN[0]}," in csv and ",gpt-4o-mini,chat,2," in csv
    page.screenshot(path=str(SCREENSHOTS / "12-usage-admin.png"), full_page=True)

    page.get_by_role("tab", name="Chat").click()
    ask(page, "Which command prints the bibliography?")
    expect(chat).to_contain_text("Sources")
    assert llm.counts["chat"] == 3
