"""The Admin tab in a real browser: an admin adds and disables a user and reads the audit log;
a non-admin never sees the tab, and the admin events refuse them on the server too."""

from __future__ import annotations

import re
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


def test_an_admin_makes_a_group_adds_members_and_removes_it_after_confirming(
    server: RunningServer, browser: Browser
) -> None:
    """Issue 31: groups in the Admin tab (the CLI has the same commands); a user cannot call them."""
    assert run_app(server.data_dir, "users", "add", "cleo", stdin="cleos-long-password\n").returncode == 0
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    page.set_default_timeout(30_000)
    fill_login(page, server.url, *ADMIN)
    page.get_by_role("tab", name="Admin").click()
    page.get_by_role("tab", name="Groups").click()
    page.locator("#groups-name textarea, #groups-name input").first.fill("Sales <b>EU</b>")
    page.locator("#groups-add").click()
    expect(page.locator(".toast-body")).to_contain_text("a group name is")  # refused, nothing else changed
    page.locator("#groups-name textarea, #groups-name input").first.fill("Sales EU")
    page.locator("#groups-add").click()
    expect(page.locator("#groups-result")).to_contain_text("Group Sales EU created")
    expect(page.locator("#admin-groups")).to_contain_text("Sales EU")
    page.locator("#groups-member textarea, #groups-member input").first.fill("cleo")
    page.locator("#groups-add-member").click()
    expect(page.locator("#groups-result")).to_contain_text("cleo is reader of Sales EU")
    expect(page.locator("#groups-members")).to_contain_text("manual")
    page.screenshot(path=str(SCREENSHOTS / "admin-groups.png"), full_page=True)
    assert "cleo\treader\tmanual" in run_app(server.data_dir, "groups", "members", "sales eu").stdout

    cleo = signed_in(server, "cleo", "cleos-long-password")
    config = cleo.get("/config").json()
    create = next(
        dep.get("id", i)
        for i, dep in enumerate(config["dependencies"])
        if any(t[0] == _component(config, "groups-add") for t in dep.get("targets", []))
    )
    assert not run_event(cleo, create, ["Cleos group"]).success  # checked on the server, not only hidden
    assert "Cleos group" not in run_app(server.data_dir, "groups", "list").stdout

    # The library's limits: shown with what it holds; only the changed field is saved.
    page.locator("#groups-show").click()
    expect(page.locator("#groups-lib-note")).to_contain_text("Library Sales EU holds 0 documents, 0 MB")
    documents = page.locator("#groups-lib-documents textarea, #groups-lib-documents input").first
    storage = page.locator("#groups-lib-storage textarea, #groups-lib-storage input").first
    expect(storage).to_have_value("unlimited")
    storage.fill("5")
    page.locator("#groups-lib-save").click()
    expect(page.locator("#groups-result")).to_contain_text("Limits of library Sales EU saved")
    expect(storage).to_have_value("5")
    shown = run_app(server.data_dir, "quotas", "show", "Sales EU", "--library").stdout
    assert re.search(r"storage_mb\s+5\s+\(user\)", shown) and re.search(r"documents\s+\S+\s+\(config\)", shown), shown
    documents.fill("many")
    page.locator("#groups-lib-save").click()
    expect(page.locator(".toast-body").last).to_contain_text("many")  # refused, naming what was typed
    save = next(
        dep.get("id", i)
        for i, dep in enumerate(config["dependencies"])
        if any(t[0] == _component(config, "groups-lib-save") for t in dep.get("targets", []))
    )
    assert not run_event(cleo, save, ["Sales EU", "", "1000", None]).success
    assert re.search(r"storage_mb\s+5\s", run_app(server.data_dir, "quotas", "show", "Sales EU", "--library").stdout)
    page.screenshot(path=str(SCREENSHOTS / "admin-groups-library-limits.png"), full_page=True)

    page.locator("#groups-remove").click()
    dialog = page.locator("#confirm-remove-group").first
    expect(dialog).to_contain_text("Remove the group Sales EU and its 1 memberships?")
    dialog.locator("#groups-remove-yes").click()
    expect(page.locator("#groups-result")).to_contain_text("Group Sales EU removed with its 1 memberships")
    expect(page.locator("#admin-groups")).not_to_contain_text("Sales EU")
