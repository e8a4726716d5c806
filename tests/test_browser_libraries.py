"""Team libraries in a real browser (issue 31): a reader finds the library on the Documents page and
in the chat's picker, asks and sees the library named in the sources; an editor uploads into it on a
phone; a user in no group sees none of it and reaches none of it through the page's functions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.fixtures.cli import run_app
from tests.fixtures.gradio_http import fn_index, run_event, signed_in
from tests.fixtures.server import RunningServer, running_server
from tests.test_browser import SCREENSHOTS, browser, fill_login  # noqa: F401  (browser: a fixture)

pytestmark = pytest.mark.browser
DATA = Path(__file__).parent / "data"
USERS = {"alice": "alices-long-password", "bob": "bobs-long-password", "mallory": "mallorys-long-password"}
QUESTION = "Which command gives a textual citation with natbib?"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, str]]:
    data = tmp_path_factory.mktemp("libraries") / "data"
    for name, password in USERS.items():
        assert run_app(data, "users", "add", name, stdin=password + "\n").returncode == 0
    assert run_app(data, "groups", "add", "Eng").returncode == 0
    assert run_app(data, "groups", "add-member", "Eng", "alice", "--role", "editor").returncode == 0
    assert run_app(data, "groups", "add-member", "Eng", "bob").returncode == 0
    assert run_app(data, "ingest", str(DATA / "natbib.pdf"), "--library", "Eng").returncode == 0
    doc_id = run_app(data, "documents", "list", "--library", "Eng").stdout.split("\t")[0]
    with running_server(data) as srv:
        yield srv, doc_id


def _signed_in_page(chromium: Browser, url: str, user: str, width: int, height: int) -> Page:
    page = chromium.new_context(viewport={"width": width, "height": height}).new_page()
    page.set_default_timeout(30_000)
    fill_login(page, url, user, USERS[user])
    expect(page.locator("#whoami")).to_contain_text(user)
    return page


def test_a_reader_asks_the_library_and_sees_it_named(server: tuple[RunningServer, str], browser: Browser) -> None:  # noqa: F811
    srv, _doc_id = server
    page = _signed_in_page(browser, srv.url, "bob", 1366, 900)
    page.get_by_role("tab", name="Documents").click()
    expect(page.locator("#libraries").first).to_be_visible()
    expect(page.locator("#library-docs")).to_contain_text("natbib.pdf")
    expect(page.locator("#library-note")).to_contain_text("reader")
    expect(page.locator("#library-files")).to_have_count(0)  # no upload for a reader
    page.screenshot(path=str(SCREENSHOTS / "libraries-reader-documents.png"), full_page=True)

    page.get_by_role("tab", name="Chat").click()
    expect(page.locator("#scope")).to_contain_text("Library: Eng")
    page.locator("#question textarea").fill(QUESTION)
    page.locator("#send").click()
    chat = page.locator("#chatbot")
    expect(chat).to_contain_text("natbib.pdf (library Eng)", timeout=120_000)
    expect(page.locator("#passage")).to_contain_text("library Eng", timeout=60_000)
    page.screenshot(path=str(SCREENSHOTS / "libraries-reader-chat.png"), full_page=True)


def test_an_editor_uploads_into_the_library_on_a_phone(server: tuple[RunningServer, str], browser: Browser) -> None:  # noqa: F811
    srv, _doc_id = server
    page = _signed_in_page(browser, srv.url, "alice", 390, 844)
    page.get_by_role("tab", name="Documents").click()
    expect(page.locator("#libraries").first).to_be_visible()
    page.locator("#library-files input[type=file]").set_input_files(DATA / "jbtxdoc.pdf")
    expect(page.locator("#library-jobs")).to_contain_text("jbtxdoc.pdf")
    row = page.locator("#library-docs tr", has_text="jbtxdoc.pdf")
    for _ in range(90):  # the panel is read again on refresh
        page.locator("#library-refresh").click()
        # Matched on the text, as `expect` reads it: the table's first matching row is a hidden copy
        # Gradio measures columns with, whose inner text is empty (the loop used to run out its 3 minutes).
        if row.filter(has_text="ready").count():
            break
        page.wait_for_timeout(2_000)
    expect(row.first).to_contain_text("ready")
    expect(page.locator("#documents")).not_to_contain_text("jbtxdoc.pdf")  # not in her own documents
    page.locator("#library-files").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "libraries-editor-phone.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width} px)"


def test_a_user_in_no_group_sees_and_reaches_nothing_of_it(
    server: tuple[RunningServer, str],
    browser: Browser,  # noqa: F811
) -> None:
    srv, doc_id = server
    page = _signed_in_page(browser, srv.url, "mallory", 1366, 900)
    page.get_by_role("tab", name="Documents").click()
    expect(page.locator("#documents")).to_be_visible()
    expect(page.locator("#libraries").first).to_be_hidden()
    expect(page.locator("body")).not_to_contain_text("natbib.pdf")
    page.get_by_role("tab", name="Chat").click()
    expect(page.locator("#scope")).not_to_contain_text("Eng")

    mallory = signed_in(srv, "mallory", USERS["mallory"])
    shown = run_event(mallory, fn_index(mallory, "page"), [doc_id, 1])
    assert not shown.success and "not found" in str(shown.error).lower(), shown
    asked = run_event(mallory, fn_index(mallory, "ask"), [QUESTION, [], None, [f"lib:{'0' * 32}", doc_id]])
    assert "natbib" not in str(asked.output) and "natbib" not in str(asked.error)
    bob = signed_in(srv, "bob", USERS["bob"])
    assert run_event(bob, fn_index(bob, "page"), [doc_id, 1]).success  # a member's page request works
    # The library's upload function, called directly: a reader and a non-member are refused and
    # nothing is queued (the page hides it from them; the server decides).
    tenant = "lib:" + _group_id(srv)
    for client, word in ((bob, "reader"), (mallory, "not in the list of choices")):
        session = f"sneaky{len(word)}"
        # The panel opened first in this session, as the page does (a reader gets the library listed).
        run_event(client, _event(client, "library-refresh", "click"), [None], session)
        sent = client.post("/gradio_api/upload", files=[("files", ("sneaky.pdf", (DATA / "natbib.pdf").read_bytes()))])
        assert sent.status_code == 200, sent.text
        data = [[{"path": sent.json()[0], "meta": {"_type": "gradio.FileData"}}], tenant]
        refused = run_event(client, _event(client, "library-files", "upload"), data, session)
        assert not refused.success and word in str(refused.error), refused
    listed = run_app(srv.data_dir, "documents", "list", "--library", "Eng").stdout
    assert "sneaky" not in listed
    assert not re.search(r"\bTraceback\b", f"{shown.error} {asked.error}")  # said plainly, no trace


def _group_id(server: RunningServer) -> str:
    """The Eng group's id, read from the database the way an attacker could only guess it."""
    import sqlite3

    row = sqlite3.connect(server.data_dir / "app.db").execute("SELECT id FROM groups WHERE name = 'Eng'").fetchone()
    return str(row[0])


def _event(client: Any, elem_id: str, trigger: str) -> int:
    """The id of the event `trigger` of the component `elem_id` (the page's private functions)."""
    config = client.get("/config").json()
    target = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == elem_id)
    return next(
        int(d.get("id", i))
        for i, d in enumerate(config["dependencies"])
        if any(t[0] == target and t[1] == trigger for t in d.get("targets", []))
    )
