"""The Admin tab in a real browser: an admin adds and disables a user and reads the audit log;
a non-admin never sees the tab, and the admin events refuse them on the server too."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.fixtures.cli import run_app
from tests.fixtures.gradio_http import run_event, signed_in
from tests.fixtures.server import ADMIN, ROOT, RunningServer, running_server
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, fill_login

pytestmark = pytest.mark.browser
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
BOB = ("bob", "bobs-long-password")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("admin") / "data") as srv:
        assert run_app(srv.data_dir, "users", "add", BOB[0], stdin=BOB[1] + "\n").returncode == 0
        yield srv


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_an_admin_manages_users_and_reads_the_audit_log(server: RunningServer, browser: Browser) -> None:
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    page.set_default_timeout(30_000)
    fill_login(page, server.url, *ADMIN)
    page.get_by_role("tab", name="Admin").click()
    expect(page.locator("#admin-users")).to_contain_text("bob")
    page.locator("#admin-name textarea, #admin-name input").first.fill("zoe")
    page.locator("#admin-password input, #admin-password textarea").first.fill("zoes-long-password")
    page.locator("#admin-add").click()
    expect(page.locator("#admin-result")).to_contain_text("User zoe added")
    expect(page.locator("#admin-users")).to_contain_text("zoe")
    page.locator("#admin-name textarea, #admin-name input").first.fill("bob")
    page.locator("#admin-disable").click()
    expect(page.locator("#admin-result")).to_contain_text("bob disabled")
    page.get_by_role("tab", name="Audit log").click()
    page.locator("#admin-refresh").click()
    expect(page.locator("#admin-audit")).to_contain_text("user.created")
    page.screenshot(path=str(SCREENSHOTS / "admin-audit.png"), full_page=True)
    page.get_by_role("tab", name="System").click()
    expect(page.locator("#admin-system")).to_contain_text("embedding_model")
    page.screenshot(path=str(SCREENSHOTS / "admin-system.png"), full_page=True)
    assert run_app(server.data_dir, "users", "list").stdout.count("zoe") == 1


def test_a_user_sees_no_admin_tab_and_cannot_call_it(server: RunningServer, browser: Browser) -> None:
    assert run_app(server.data_dir, "users", "add", "yan", stdin="yans-long-password\n").returncode == 0
    page = browser.new_context().new_page()
    page.set_default_timeout(30_000)
    fill_login(page, server.url, "yan", "yans-long-password")
    expect(page.get_by_role("tab", name="Chat")).to_be_visible()
    expect(page.get_by_role("tab", name="Admin")).to_have_count(0)
    yan = signed_in(server, "yan", "yans-long-password")
    config = yan.get("/config").json()
    add = next(
        i
        for i, dep in enumerate(config["dependencies"])
        if any(c == _component(config, "admin-add") for c in [t[0] for t in dep.get("targets", [])])
    )
    result = run_event(yan, config["dependencies"][add].get("id", add), ["mallory", "mallorys-password", True, ""])
    assert not result.success
    assert "mallory" not in run_app(server.data_dir, "users", "list").stdout


def _component(config: dict, elem_id: str) -> int:
    return next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == elem_id)
