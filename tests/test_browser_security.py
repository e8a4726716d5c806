"""In a real browser: text from a document or from the model never makes the browser fetch a remote
URL, and the app cannot be framed by another page. A listener on 127.0.0.1 records every request
that reaches it; it must stay empty.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.fixtures import pdf_factory
from tests.fixtures.gradio_http import signed_in, upload_and_wait
from tests.fixtures.llm_server import FakeOpenAIServer
from tests.fixtures.server import ADMIN, ROOT, RunningServer, running_server
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, fill_login

pytestmark = pytest.mark.browser
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


class Listener:
    def __init__(self) -> None:
        self.requests: list[str] = []
        seen = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    srv = Listener()
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, listener: Listener) -> Iterator[RunningServer]:
    with FakeOpenAIServer() as llm:
        llm.reply_fn = lambda messages: (
            f"The zebra valve is calibrated weekly [1]. ![y]({listener.url}/leak.png?from=answer) "
            f'<img src="{listener.url}/leak.png?from=html"> [see]({listener.url}/page?from=link)'
        )
        env = {"APP_LLM__API_BASE": llm.base_url, "APP_LLM__API_KEY": "sk-test", "APP_LLM__MODEL": "test-chat"}
        with running_server(tmp_path_factory.mktemp("bsec") / "data", env=env) as server:
            yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def _upload_hostile_pdf(app: RunningServer, listener: Listener, folder: Path) -> None:
    pdf = pdf_factory.text_pdf(
        folder,
        [
            f"Zebra valve calibration. ![x]({listener.url}/leak.png?from=quote) "
            f'<img src="{listener.url}/leak.png?from=passage-html"> The zebra valve is calibrated '
            "every week by the maintenance team, using the zebra gauge and the calibration sheet."
        ],
        name="zebra-manual.pdf",
    )
    upload_and_wait(signed_in(app, *ADMIN), pdf)


def test_document_and_answer_text_never_load_remote_images(
    app: RunningServer, listener: Listener, browser: Browser, tmp_path: Path
) -> None:
    _upload_hostile_pdf(app, listener, tmp_path)
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    try:
        fill_login(page, app.url, *ADMIN)
        expect(page.get_by_role("tab", name="Chat")).to_be_visible(timeout=30_000)
        page.locator("#question textarea").fill("How often is the zebra valve calibrated?")
        page.locator("#send").click()
        chat = page.locator("#chatbot")
        expect(chat).to_contain_text("zebra-manual.pdf", timeout=60_000)  # the sources are shown
        expect(chat).to_contain_text("leak.png?from=quote")  # the passage's markup, as text
        expect(chat).to_contain_text("leak.png?from=answer")  # the answer's image, as its address
        expect(page.locator("#passage")).to_contain_text("leak.png", timeout=30_000)  # the page view's passage
        page.wait_for_timeout(2000)
        page.screenshot(path=str(SCREENSHOTS / "security-no-remote-images.png"), full_page=True)
        images = page.eval_on_selector_all("#chatbot img, #passage img", "els => els.map(e => e.src)")
        assert not [src for src in images if listener.url in src], images
        assert listener.requests == [], listener.requests
    finally:
        context.close()


def test_the_app_cannot_be_framed(app: RunningServer, browser: Browser, tmp_path: Path) -> None:
    """A page of another origin frames the app beside a control frame. Both frames' load events
    are awaited (a refused frame loads the browser's error page), then the control frame shows its
    text, which proves the check can see a frame's content, and the app's frame shows nothing."""
    frame_page = tmp_path / "frame.html"
    frame_page.write_text(
        "<html><body><script>window.loaded = [];</script>"
        '<iframe id="control" srcdoc="<p>Please sign in</p>" onload="loaded.push(this.id)"></iframe>'
        f'<iframe id="f" src="{app.url}/" width="800" height="600" onload="loaded.push(this.id)"></iframe>'
        "</body></html>"
    )
    context = browser.new_context()
    page = context.new_page()
    try:
        with page.expect_response(lambda r: r.url.rstrip("/") == app.url.rstrip("/")) as answered:
            page.goto(frame_page.as_uri())
        assert answered.value.status == 200  # the app did answer the frame's request...
        page.wait_for_function("['control', 'f'].every(id => window.loaded.includes(id))", timeout=60_000)
        assert page.frame_locator("#control").locator("text=sign in").count() == 1
        # ...and the browser refused to show it (frame-ancestors / X-Frame-Options).
        assert page.frame_locator("#f").locator("text=sign in").count() == 0
        framed = page.locator("#f").element_handle().content_frame()
        assert framed is not None and not framed.url.startswith(app.url), framed.url
    finally:
        context.close()
