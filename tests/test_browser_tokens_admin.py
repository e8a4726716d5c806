"""The Admin tab's Tokens sub-tab in a real browser (issue 30), at 1366 px and on a 390 px phone: an
admin sees everyone's tokens (owner, label, prefix, scopes, state, expiry, last use, revocation;
never a token), picks one by clicking its row, revokes it after a confirmation naming its owner and
prefix; the token is refused by the API at once and the revocation is in the audit log with the
admin and the client. A user's direct calls of the tab's events are refused on the server. The API
docs page renders with every request outside the app blocked (Swagger UI served by the app)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

from tests.fixtures.api import create_token
from tests.fixtures.cli import run_app
from tests.fixtures.gradio_http import run_event, signed_in
from tests.fixtures.server import ADMIN, ROOT, RunningServer, running_server
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, fill_login

pytestmark = pytest.mark.browser
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
TOM = ("tom", "toms-long-password")
SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("tokens-admin") / "data") as srv:
        assert run_app(srv.data_dir, "users", "add", TOM[0], stdin=TOM[1] + "\n").returncode == 0
        yield srv


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def _api_status(server: RunningServer, token: str) -> int:
    return httpx.get(f"{server.url}/v1/models", headers={"Authorization": f"Bearer {token}"}, timeout=30).status_code


def _open_tokens(page: Page) -> None:
    page.get_by_role("tab", name="Admin").click()
    tab = page.get_by_role("tab", name="Tokens")
    if not tab.is_visible():  # a narrow screen puts the sub-tabs that do not fit in a menu
        page.locator(
            ".tab-container .overflow-menu button, button.overflow-item-selected, .overflow-menu"
        ).first.click()
    tab.click()


@pytest.mark.parametrize("size", list(SIZES))
def test_an_admin_sees_everyones_tokens_and_revokes_one_after_confirming(
    server: RunningServer, browser: Browser, size: str
) -> None:
    token = create_token(server.data_dir, "tom", "ask", expires="30d")
    other = ["tokens", "create", "--user", "tom", "--scope", "read", "--name", f"other-{size}"]
    assert run_app(server.data_dir, *other).returncode == 0
    assert _api_status(server, token) == 200  # used once: the list shows when

    page = browser.new_context(viewport=SIZES[size]).new_page()
    page.set_default_timeout(30_000)
    fill_login(page, server.url, *ADMIN)
    _open_tokens(page)
    table = page.locator("#admin-tokens")
    expect(table).to_contain_text(token[:12])
    expect(table).to_contain_text("tom")
    expect(table).to_contain_text(f"other-{size}")
    text = table.inner_text()
    assert token[12:] not in text and token not in page.content()  # never the token itself
    for header in ("owner", "prefix", "scopes", "state", "expires", "last used", "revoked"):
        assert header in text.lower(), header
    page.screenshot(path=str(SCREENSHOTS / f"admin-tokens-{size}.png"), full_page=True)

    page.locator("#tokens-admin-id textarea, #tokens-admin-id input").first.fill(token[:12])
    page.locator("#tokens-admin-revoke").click()
    dialog = page.locator("#confirm-revoke-token").first
    expect(dialog).to_contain_text(f"Revoke the token {token[:12]}…")
    expect(dialog).to_contain_text("of tom?")
    page.screenshot(path=str(SCREENSHOTS / f"admin-tokens-confirm-{size}.png"), full_page=True)
    assert _api_status(server, token) == 200  # nothing happens before the confirmation
    dialog.locator("#tokens-admin-revoke-yes").click()
    expect(page.locator("#tokens-admin-result")).to_contain_text(f"Token {token[:12]}… of tom revoked")
    expect(dialog).to_be_hidden()
    assert _api_status(server, token) == 401
    row = table.get_by_role("row").filter(has_text=token[:12]).first
    expect(row).to_contain_text("revoked")

    audit = [json.loads(x) for x in (server.data_dir / "logs" / "audit.log").read_text().splitlines() if x]
    revoked = [e for e in audit if e["event"] == "token.revoked" and e.get("token") == token[:12]]
    assert revoked and revoked[-1]["actor"] == ADMIN[0] and revoked[-1]["target"] == "tom"
    assert revoked[-1]["client"] == "127.0.0.1"


def test_a_click_on_a_row_picks_its_token_and_a_filter_shows_one_users(server: RunningServer, browser: Browser) -> None:
    assert run_app(server.data_dir, "users", "add", "una", stdin="unas-long-password\n").returncode == 0
    unas = create_token(server.data_dir, "una", "read")
    page = browser.new_context(viewport=SIZES["desktop"]).new_page()
    page.set_default_timeout(30_000)
    fill_login(page, server.url, *ADMIN)
    _open_tokens(page)
    page.locator("#tokens-admin-user textarea, #tokens-admin-user input").first.fill("una")
    page.locator("#tokens-admin-show").click()
    table = page.locator("#admin-tokens")
    expect(table).to_contain_text(unas[:12])
    expect(table).not_to_contain_text("tom")
    table.get_by_role("gridcell").filter(has_text=unas[:12]).first.click()
    box = page.locator("#tokens-admin-id textarea, #tokens-admin-id input").first
    expect(box).not_to_have_value("")
    token_id = box.input_value()
    assert token_id in run_app(server.data_dir, "tokens", "list", "--user", "una").stdout
    page.locator("#tokens-admin-revoke").click()
    dialog = page.locator("#confirm-revoke-token").first
    expect(dialog).to_contain_text(f"{unas[:12]}…")
    dialog.locator("#tokens-admin-revoke-no").click()
    expect(dialog).to_be_hidden()
    assert _api_status(server, unas) == 200  # cancelled: still live


def test_a_user_cannot_call_the_tokens_events(server: RunningServer) -> None:
    victim = create_token(server.data_dir, "tom", "read")
    tom = signed_in(server, *TOM)
    config = tom.get("/config").json()
    for elem_id, data in (("tokens-admin-revoke", [victim[:12]]), ("tokens-admin-show", ["tom"])):
        dep = _dependency(config, elem_id)
        result = run_event(tom, dep, data)
        assert not result.success, elem_id
    assert _api_status(server, victim) == 200


def _dependency(config: dict[str, Any], elem_id: str) -> int:
    component = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == elem_id)
    return next(
        dep.get("id", i)
        for i, dep in enumerate(config["dependencies"])
        if any(t[0] == component for t in dep.get("targets", []))
    )


def test_the_api_docs_page_renders_with_the_internet_blocked(server: RunningServer, browser: Browser) -> None:
    host = urlparse(server.url).netloc
    outside: list[str] = []

    def only_the_app(route: Route) -> None:
        if urlparse(route.request.url).netloc == host:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context = browser.new_context(viewport=SIZES["desktop"])
    context.route("**/*", only_the_app)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{server.url}/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("PDF Q&A API", timeout=30_000)
    expect(page.locator(".opblock-summary-path", has_text="/v1/chat/completions").first).to_be_visible()
    expect(page.locator("button.authorize").first).to_be_visible()  # the token can be given to try a route
    page.screenshot(path=str(SCREENSHOTS / "api-docs.png"), full_page=False)
    assert outside == [] and not [e for e in errors if "Content Security Policy" in e], (outside, errors)
