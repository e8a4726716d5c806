"""Single sign-on (issue 31, auth.oidc) against a real OpenID provider started on 127.0.0.1
(PyPI oidc-provider-mock): sign-in in Chromium, the first sign-in creating the account, logout,
a disabled user refused, the state checked, and ID tokens that are forged, expired or meant for
another client refused."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwk, jwt
from oidc_provider_mock import run_server_in_thread
from playwright.sync_api import Browser, expect

from app.auth.oidc import OidcClient, OidcRefused
from app.config_server import OidcSettings
from tests.fixtures.server import ROOT, RunningServer, running_server
from tests.test_browser import SCREENSHOTS, browser, fill_login  # noqa: F401  (browser: a fixture)

CLIENT_ID = "pdfqa"
SECRET = "oidc-client-secret-for-tests"
USERS = {
    "sub-carol": {"preferred_username": "carol", "email": "carol@example.com", "groups": ["sales", "support"]},
    "sub-dave": {"preferred_username": "dave", "email": "dave@example.com"},
    "sub-gina": {"preferred_username": "gina", "email": "gina@example.com"},
    "sub-eve": {"preferred_username": "eve", "email": "eve@elsewhere.test"},
}


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    with run_server_in_thread(port=0) as server:
        issuer = f"http://127.0.0.1:{server.server_port}"
        for sub, claims in USERS.items():
            httpx.put(f"{issuer}/users/{sub}", json=claims).raise_for_status()
        yield issuer


@pytest.fixture(scope="module")
def sso_server(tmp_path_factory: pytest.TempPathFactory, provider: str) -> Iterator[RunningServer]:
    env = {
        "APP_AUTH__OIDC__ENABLED": "true",
        "APP_AUTH__OIDC__ISSUER": provider,
        "APP_AUTH__OIDC__CLIENT_ID": CLIENT_ID,
        "APP_AUTH__OIDC__CLIENT_SECRET": SECRET,
        "APP_AUTH__OIDC__ALLOWED_EMAIL_DOMAINS": '["example.com"]',
    }
    with running_server(tmp_path_factory.mktemp("oidc") / "data", env=env) as server:
        yield server


def settings(issuer: str, client_id: str = CLIENT_ID) -> OidcSettings:
    return OidcSettings(enabled=True, issuer=issuer, client_id=client_id, client_secret=SECRET)


def sign_in(app_url: str, sub: str) -> httpx.Response:
    """The whole redirect dance without a browser: our /login/oidc, the provider's form, our callback."""
    with httpx.Client(base_url=app_url) as client:
        start = client.get("/login/oidc")
        assert start.status_code == 302, start.text
        consent = httpx.post(start.headers["location"], data={"sub": sub})
        assert consent.status_code == 302, consent.text
        return client.get(consent.headers["location"])


def provider_token(issuer: str, client_id: str, sub: str = "sub-carol") -> tuple[str, str]:
    """An ID token the provider issues to `client_id` (this provider serves any client), and its nonce."""
    client = OidcClient(settings(issuer, client_id))
    url, pending = client.start("http://127.0.0.1:9/callback")
    consent = httpx.post(url, data={"sub": sub})
    code = parse_qs(urlsplit(consent.headers["location"]).query)["code"][0]
    token = httpx.post(
        client.metadata()["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://127.0.0.1:9/callback",
            "code_verifier": pending.verifier,
        },
        auth=(client_id, SECRET),
    )
    token.raise_for_status()
    return str(token.json()["id_token"]), pending.nonce


def app_cli(server: RunningServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"APP_DATA_DIR": str(server.data_dir), "APP_CONFIG": str(ROOT / "config.yaml"), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "app", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_sign_in_with_the_provider_in_chromium_creates_the_user_and_logout_ends_it(
    browser: Browser,  # noqa: F811
    sso_server: RunningServer,
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(sso_server.url)
    link = page.locator("#sso-link")
    expect(link).to_have_text("Sign in with single sign-on")
    page.screenshot(path=str(SCREENSHOTS / "oidc-01-sign-in-page.png"))
    link.click()
    page.locator("input[name=sub]").fill("sub-carol")
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_role("tab", name="Chat")).to_be_visible(timeout=60_000)
    expect(page.locator("#whoami")).to_contain_text("carol")
    page.screenshot(path=str(SCREENSHOTS / "oidc-02-signed-in.png"))
    cookies = {c["name"]: c for c in context.cookies()}
    assert cookies["access-token-pdfqa"]["httpOnly"] and "pdfqa-oidc" not in cookies

    listed = app_cli(sso_server, "users", "list")
    assert listed.returncode == 0 and "carol" in listed.stdout, listed.stderr
    log = sso_server.log()
    assert "first sign-in: user created user=carol method=oidc" in log
    assert SECRET not in log and "Traceback" not in log

    page.goto(f"{sso_server.url}/logout")
    expect(page.locator("#sso-link")).to_be_visible()
    assert "access-token-pdfqa" not in {c["name"] for c in context.cookies()}
    context.close()


def test_an_account_with_a_password_signed_in_by_the_provider_deletes_itself_with_its_name(
    browser: Browser,  # noqa: F811
    sso_server: RunningServer,
) -> None:
    """An account with a password (as single sign-on made them before: a random one nobody knows),
    signed in through the provider: Settings asks for the user name, not the password."""
    from tests.fixtures.cli import run_app

    added = run_app(sso_server.data_dir, "users", "add", "gina", stdin="a-password-nobody-knows-1\n")
    assert added.returncode == 0, added.stderr
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(sso_server.url)
    page.locator("#sso-link").click()
    page.locator("input[name=sub]").fill("sub-gina")
    page.get_by_role("button", name="Authorize").click()
    expect(page.locator("#whoami")).to_contain_text("gina")
    page.get_by_role("tab", name="Settings").click()
    page.locator("#my-data").get_by_text("Your data").first.click()
    expect(page.locator("#delete-account-confirm")).to_contain_text("Type your user name")
    expect(page.locator("#delete-account-confirm input[type=password]")).to_have_count(0)
    confirm = page.locator("#delete-account-confirm input, #delete-account-confirm textarea").first
    page.screenshot(path=str(SCREENSHOTS / "oidc-03-delete-own-account-390.png"))
    confirm.fill("a-password-nobody-knows-1")  # the password is not what confirms here
    page.locator("#delete-account").click()
    expect(page.locator(".toast-body")).to_contain_text("user name")
    confirm.fill("gina")
    page.locator("#delete-account").click()
    expect(page.locator("#sso-link")).to_be_visible()  # signed out
    assert "gina" not in app_cli(sso_server, "users", "list").stdout
    context.close()


def test_passwords_still_work_beside_single_sign_on(browser: Browser, sso_server: RunningServer) -> None:  # noqa: F811
    context = browser.new_context()
    page = context.new_page()
    fill_login(page, sso_server.url, "admin", "correct-horse-battery")
    expect(page.locator("#whoami")).to_contain_text("admin")
    context.close()


def test_a_disabled_user_and_a_foreign_email_domain_are_refused(sso_server: RunningServer) -> None:
    first = sign_in(sso_server.url, "sub-dave")
    assert first.status_code == 302 and first.headers["location"] == "/"
    assert "access-token-pdfqa" in first.cookies
    assert app_cli(sso_server, "users", "disable", "dave").returncode == 0

    again = sign_in(sso_server.url, "sub-dave")
    assert again.status_code == 403 and "access-token-pdfqa" not in again.cookies
    assert "your account is disabled" in again.text

    foreign = sign_in(sso_server.url, "sub-eve")
    assert foreign.status_code == 400 and "email domain is not allowed" in foreign.text
    assert "eve" not in app_cli(sso_server, "users", "list").stdout


def test_a_callback_with_another_state_or_without_the_started_attempt_is_refused(sso_server: RunningServer) -> None:
    with httpx.Client(base_url=sso_server.url) as client:
        start = client.get("/login/oidc")
        consent = httpx.post(start.headers["location"], data={"sub": "sub-carol"})
        callback = urlsplit(consent.headers["location"])
        query = parse_qs(callback.query)
        forged = client.get("/login/oidc/callback", params={"code": query["code"][0], "state": "not-the-state"})
        assert forged.status_code == 400 and "state mismatch" in forged.text
        assert "access-token-pdfqa" not in forged.cookies
    # A callback in a browser that never started the sign-in (a link sent to a victim).
    stranger = httpx.get(f"{sso_server.url}/login/oidc/callback", params={"code": "x", "state": query["state"][0]})
    assert stranger.status_code == 400 and "not started here" in stranger.text
    assert "Traceback" not in stranger.text and "Traceback" not in sso_server.log()


def test_id_tokens_forged_expired_or_for_another_client_are_refused(provider: str) -> None:
    client = OidcClient(settings(provider))
    genuine, nonce = provider_token(provider, CLIENT_ID)
    claims = client.validate(genuine, nonce)
    assert claims["sub"] == "sub-carol" and client.identity(claims).groups == ("sales", "support")

    with pytest.raises(OidcRefused):
        client.validate(genuine, "another-nonce")  # a replayed token from another attempt
    with pytest.raises(OidcRefused):
        client.validate(*provider_token(provider, "another-app"))  # meant for another client

    payload: dict[str, Any] = json.loads(json.dumps(claims))
    payload["preferred_username"] = "admin"
    own_key = jwk.RSAKey.generate_key(2048, parameters={"kid": jwk_kid(provider)})
    forged = jwt.encode({"alg": "RS256", "kid": own_key.kid}, payload, own_key)
    with pytest.raises(OidcRefused):
        client.validate(forged, nonce)  # same claims, not the provider's signature

    with run_server_in_thread(port=0, access_token_max_age=timedelta(seconds=-120)) as stale:
        issuer = f"http://127.0.0.1:{stale.server_port}"
        expired, nonce = provider_token(issuer, CLIENT_ID)
        with pytest.raises(OidcRefused):
            OidcClient(settings(issuer)).validate(expired, nonce)


def jwk_kid(issuer: str) -> str:
    keys = httpx.get(f"{issuer}/jwks").json()["keys"]
    return str(keys[0].get("kid", "k1"))


def test_settings_refuse_sso_without_its_secret_and_the_secret_in_the_config_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="client_secret"):
        OidcSettings(enabled=True, issuer="https://id.example.com", client_id="x")
    config = tmp_path / "config.yaml"
    config.write_text("auth:\n  oidc:\n    enabled: true\n    client_secret: in-the-file\n")
    out = subprocess.run(
        [sys.executable, "-m", "app", "users", "list"],
        cwd=ROOT,
        env={"APP_CONFIG": str(config), "APP_DATA_DIR": str(tmp_path / "d"), "PATH": "/usr/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode != 0 and "secrets are not accepted in the config file" in out.stderr
    assert "in-the-file" not in out.stderr + out.stdout


def test_sign_in_keeps_group_membership_in_step_with_the_provider(provider: str, sso_server: RunningServer) -> None:
    for group in ("Sales", "Support"):
        assert app_cli(sso_server, "groups", "add", group).returncode == 0
    httpx.put(
        f"{provider}/users/sub-frank",
        json={"preferred_username": "frank", "email": "f@example.com", "groups": ["sales", "support", "not-here"]},
    ).raise_for_status()
    assert sign_in(sso_server.url, "sub-frank").status_code == 302
    members = app_cli(sso_server, "groups", "members", "Sales").stdout
    assert "frank\treader\tsso" in members

    httpx.put(
        f"{provider}/users/sub-frank",
        json={"preferred_username": "frank", "email": "f@example.com", "groups": ["support"]},
    ).raise_for_status()
    assert sign_in(sso_server.url, "sub-frank").status_code == 302
    assert "frank" not in app_cli(sso_server, "groups", "members", "Sales").stdout
    assert "frank\treader\tsso" in app_cli(sso_server, "groups", "members", "Support").stdout
    assert "not-here" not in app_cli(sso_server, "groups", "list").stdout


def test_a_flood_of_sign_in_starts_stores_nothing_and_failed_callbacks_are_throttled(
    tmp_path: Path, provider: str
) -> None:
    """Starting a sign-in keeps its state in a signed cookie (nothing on the server), so a flood of
    /login/oidc costs no storage; failed callbacks count against the address like failed
    passwords, and past the limit are refused before the provider is asked."""
    env = {
        "APP_AUTH__OIDC__ENABLED": "true",
        "APP_AUTH__OIDC__ISSUER": provider,
        "APP_AUTH__OIDC__CLIENT_ID": CLIENT_ID,
        "APP_AUTH__OIDC__CLIENT_SECRET": SECRET,
        "APP_AUTH__MAX_FAILURES": "3",
    }
    with running_server(tmp_path / "data", env=env) as server, httpx.Client(base_url=server.url) as client:
        starts = [client.get("/login/oidc") for _ in range(200)]
        assert {r.status_code for r in starts} == {302}
        assert len({parse_qs(urlsplit(r.headers["location"]).query)["state"][0] for r in starts}) == 200
        rows = sqlite3.connect(server.data_dir / "app.db").execute("SELECT count(*) FROM login_failures").fetchone()
        assert rows == (0,)  # nothing stored for a started attempt

        start = client.get("/login/oidc")
        consent = httpx.post(start.headers["location"], data={"sub": "sub-dave"})
        code = parse_qs(urlsplit(consent.headers["location"]).query)["code"][0]
        for _ in range(3):
            refused = client.get("/login/oidc/callback", params={"code": code, "state": "forged"})
            assert refused.status_code == 400, refused.text
        throttled = client.get("/login/oidc/callback", params={"code": code, "state": "forged"})
        assert throttled.status_code == 429 and "too many failed sign-ins" in throttled.text
        assert "Traceback" not in throttled.text
        # Throttled before anything else: even the right state waits for the cool-down.
        state = parse_qs(urlsplit(consent.headers["location"]).query)["state"][0]
        assert client.get("/login/oidc/callback", params={"code": code, "state": state}).status_code == 429
        assert '"login"' in (server.data_dir / "logs" / "audit.log").read_text()
