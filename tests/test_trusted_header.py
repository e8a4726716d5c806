"""auth.mode trusted_header (issue 31): behind an authenticating proxy the user is named by
X-Forwarded-User (groups in X-Forwarded-Groups), believed only from server.trusted_proxies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.fixtures.cli import run_app
from tests.fixtures.server import RunningServer, running_server
from tests.test_browser import SCREENSHOTS, browser  # noqa: F401  (browser: a fixture)

PROXY_ENV = {"APP_AUTH__MODE": "trusted_header", "APP_SERVER__TRUSTED_PROXIES": '["127.0.0.1/32"]'}


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("proxied") / "data", env=PROXY_ENV) as server:
        yield server


def test_the_proxy_names_the_user_who_gets_the_app_in_chromium(
    browser: Browser,  # noqa: F811
    proxied: RunningServer,
) -> None:
    assert run_app(proxied.data_dir, "groups", "add", "Support").returncode == 0
    context = browser.new_context(extra_http_headers={"X-Forwarded-User": "gina", "X-Forwarded-Groups": "support, x"})
    page = context.new_page()
    page.goto(proxied.url)
    expect(page.get_by_role("tab", name="Chat")).to_be_visible(timeout=60_000)
    expect(page.locator("#whoami")).to_contain_text("gina")
    page.screenshot(path=str(SCREENSHOTS / "trusted-header-signed-in.png"))
    context.close()
    assert "gina" in run_app(proxied.data_dir, "users", "list").stdout
    assert "gina\treader\tsso" in run_app(proxied.data_dir, "groups", "members", "Support").stdout


def test_without_the_header_or_for_a_disabled_user_nothing_is_served(proxied: RunningServer) -> None:
    stranger = httpx.get(proxied.url)
    assert stranger.status_code == 401 and "sign-in proxy" in stranger.text
    assert httpx.get(f"{proxied.url}/config").status_code == 401
    password = httpx.post(f"{proxied.url}/login", data={"username": "admin", "password": "long-enough-1"})
    assert not any(name.startswith("access-token") for name in password.cookies)  # no password sign-in here

    assert httpx.get(proxied.url, headers={"X-Forwarded-User": "hank"}).status_code == 200
    assert run_app(proxied.data_dir, "users", "disable", "hank").returncode == 0
    refused = httpx.get(f"{proxied.url}/config", headers={"X-Forwarded-User": "hank"})
    assert refused.status_code == 403 and "disabled" in refused.text


def test_the_header_from_an_untrusted_peer_is_ignored(tmp_path: Path) -> None:
    env = {**PROXY_ENV, "APP_SERVER__TRUSTED_PROXIES": '["10.255.255.1/32"]'}
    with running_server(tmp_path / "data", env=env) as server:
        forged = httpx.get(f"{server.url}/config", headers={"X-Forwarded-User": "admin"})
        assert forged.status_code == 401
        named = httpx.get(f"{server.url}/config", headers={"X-Forwarded-User": "ivan"})
        assert named.status_code == 401
        assert "ivan" not in run_app(server.data_dir, "users", "list").stdout  # no account made from it


def test_the_mode_refuses_to_start_without_trusted_proxies(tmp_path: Path) -> None:
    env = {"APP_AUTH__MODE": "trusted_header", "APP_ADMIN_USERNAME": "admin", "APP_ADMIN_PASSWORD": "long-enough-1"}
    out = run_app(tmp_path / "data", "serve", "--port", "1", env=env, timeout=120)
    assert out.returncode != 0 and "server.trusted_proxies" in out.stderr and "Traceback" not in out.stderr
