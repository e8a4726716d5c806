"""Settings > Your data in Chromium, on a laptop (1366 px) and a phone (390 px): a user downloads
their archive (the original PDF in it byte for byte; the server's temporary copy gone afterwards),
a wrong password does not delete the account, the right one deletes it with everything it owns and
signs the browser out; an admin sees what removing a user would delete before confirming."""

from __future__ import annotations

import json
import shutil
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.fixtures.cli import run_app
from tests.fixtures.server import ROOT, RunningServer, running_server
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, fill_login

pytestmark = pytest.mark.browser
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PDF = Path(__file__).parent / "data" / "jbtxdoc.pdf"
USERS = {"1366x900": ("dana", "danas-long-password"), "390x844": ("ewan", "ewans-long-password")}
FAY = ("fay", "fays-long-password")  # the user whose removal an admin previews


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data = tmp_path_factory.mktemp("user-data") / "data"
    # Made before the server starts (it holds the embedded vector store): an admin, and two users with a document.
    assert run_app(data, "users", "add", "admin", "--admin", stdin="admins-long-password\n").returncode == 0
    for name, password in [*USERS.values(), FAY]:
        assert run_app(data, "users", "add", name, stdin=password + "\n").returncode == 0
        done = run_app(data, "ingest", "--user", name, str(PDF))
        assert done.returncode == 0, done.stderr
    with running_server(data, admin=None) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.mark.parametrize("viewport", list(USERS), ids=list(USERS))
def test_a_user_downloads_their_data_and_deletes_their_account(
    server: RunningServer, browser: Browser, viewport: str, tmp_path: Path
) -> None:
    name, password = USERS[viewport]
    width, height = (int(v) for v in viewport.split("x"))
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    fill_login(page, server.url, name, password)
    expect(page.locator("#whoami")).to_contain_text(name)
    page.get_by_role("tab", name="Settings").click()
    page.locator("#my-data").get_by_text("Your data").first.click()
    help_text = page.locator("#delete-account-help")
    expect(help_text).to_contain_text("1 documents")
    _shot(page, f"settings-your-data-{viewport}.png")

    with page.expect_download() as download:
        page.locator("#export-data").click()
    archive = tmp_path / "archive.zip"
    download.value.save_as(archive)
    assert download.value.suggested_filename.startswith(f"{name}-data-")
    with zipfile.ZipFile(archive) as zf:
        assert zf.read("documents/jbtxdoc.pdf") == PDF.read_bytes()
        assert json.loads(zf.read("manifest.json"))["user"] == name
        other = next(n for n in USERS.values() if n[0] != name)[0]
        assert all(other.encode() not in zf.read(n) for n in zf.namelist() if not n.startswith("documents/"))
    _wait_gone(server.data_dir / "tmp" / "exports")  # the server's copy is removed once sent

    confirm = page.locator("#delete-account-confirm input, #delete-account-confirm textarea").first
    confirm.fill("not-the-password")
    page.locator("#delete-account").click()
    expect(page.locator(".toast-body")).to_contain_text("the password is not right")
    assert name in run_app(server.data_dir, "users", "list").stdout
    _shot(page, f"settings-delete-refused-{viewport}.png")

    confirm.fill(password)
    page.locator("#delete-account").click()
    expect(page.get_by_label("username", exact=True)).to_be_visible()  # signed out: the sign-in form
    _shot(page, f"settings-deleted-signed-out-{viewport}.png")
    assert name not in run_app(server.data_dir, "users", "list").stdout
    page.goto(server.url)  # the old session opens nothing
    expect(page.get_by_label("username", exact=True)).to_be_visible()
    context.close()


def _wait_gone(folder: Path, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while list(folder.glob("export-*.zip")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not list(folder.glob("export-*.zip")), "the server kept its copy of a sent archive"


def _shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def test_an_admin_sees_what_a_removal_would_delete_before_confirming(server: RunningServer, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    fill_login(page, server.url, "admin", "admins-long-password")
    page.get_by_role("tab", name="Admin").click()
    expect(page.locator("#admin-users")).to_contain_text(FAY[0])
    page.locator("#admin-name textarea, #admin-name input").first.fill(FAY[0])
    page.locator("#admin-remove").click()
    confirm = page.locator("#confirm-remove-user").first
    expect(confirm).to_contain_text("It removes 1 documents (0.3 MB), 0 conversations with 0 messages")
    expect(confirm).to_contain_text("0 access tokens and 0 group memberships")
    _shot(page, "admin-remove-preview-1366x900.png")
    page.locator("#admin-remove-no").click()
    expect(confirm).to_be_hidden()
    assert FAY[0] in run_app(server.data_dir, "users", "list").stdout  # the preview changed nothing
    context.close()


def test_the_export_route_serves_only_the_signed_in_user(server: RunningServer) -> None:
    import httpx

    from tests.fixtures.gradio_http import signed_in

    assert httpx.get(f"{server.url}/export/my-data").status_code == 401  # nobody signed in
    fay = signed_in(server, *FAY)
    refused = fay.get("/export/my-data", headers={"Sec-Fetch-Site": "cross-site"})
    assert refused.status_code == 403  # a link on another site starts nothing
    mine = fay.get("/export/my-data?user=admin")  # no way to name someone else
    assert mine.status_code == 200 and mine.headers["content-type"] == "application/zip"
    archive = Path(server.data_dir / "fay.zip")
    archive.write_bytes(mine.content)
    with zipfile.ZipFile(archive) as zf:
        assert json.loads(zf.read("manifest.json"))["user"] == "fay"
    _wait_gone(server.data_dir / "tmp" / "exports")  # sent: the server's copy is removed, fay's slot freed


def test_an_archive_that_cannot_be_made_says_why_in_the_browser(server: RunningServer, browser: Browser) -> None:
    """The server cannot write the archive (its folder is taken by a file): the Settings link opens
    a page that says so, with a way back, instead of a failed download; then the next try works."""
    folder = server.data_dir / "tmp" / "exports"
    shutil.rmtree(folder, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("in the way")
    context = browser.new_context(viewport={"width": 390, "height": 844}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        fill_login(page, server.url, *FAY)
        page.get_by_role("tab", name="Settings").click()
        page.locator("#my-data").get_by_text("Your data").first.click()
        page.locator("#export-data").click()
        expect(page.locator("#export-refused")).to_have_text(
            "The archive could not be written on the server; try again later."
        )
        _shot(page, "settings-export-refused-390x844.png")
        folder.unlink()
        page.get_by_role("link", name="Back to the app").click()
        page.get_by_role("tab", name="Settings").click()
        page.locator("#my-data").get_by_text("Your data").first.click()
        with page.expect_download() as download:
            page.locator("#export-data").click()
        assert download.value.suggested_filename.startswith("fay-data-")
    finally:
        context.close()
        if folder.is_file():
            folder.unlink()
