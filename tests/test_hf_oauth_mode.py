"""Hugging Face sign-in mode (auth.mode: hf_oauth) from outside: the real server, signed in through
Gradio's own OAuth routes against an OpenID Connect provider on 127.0.0.1 (oidc-provider-mock stands in
for huggingface.co, as a Space's OAUTH_* and OPENID_PROVIDER_URL variables would point to it).

A stranger gets nothing but the way to sign in: no UI function, file or API route; a signed-in account
gets in only when it is on auth.allowed_users or in one of auth.allowed_orgs (issue 23, item 14)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from oidc_provider_mock import run_server_in_thread

from app.web.gradio_routes import rule_for
from tests.fixtures.gradio_http import fn_index, run_event
from tests.fixtures.routes import mounted_routes
from tests.fixtures.server import RunningServer, running_server

ACCOUNTS: dict[str, dict[str, Any]] = {
    "alice": {"preferred_username": "alice", "name": "Alice"},  # on allowed_users
    "carol": {"preferred_username": "carol", "orgs": [{"preferred_username": "acme"}]},  # member of acme
    "mallory": {"preferred_username": "mallory", "orgs": [{"preferred_username": "other"}]},  # neither
}


def hf_env(provider_url: str) -> dict[str, str]:
    return {
        "SYSTEM": "spaces",  # Gradio's real OAuth routes (not its offline mock, which calls huggingface.co)
        "SPACE_ID": "owner/pdfqa",
        "OAUTH_CLIENT_ID": "pdfqa-test-client",
        "OAUTH_CLIENT_SECRET": "pdfqa-test-secret",
        "OAUTH_SCOPES": "openid profile",
        "OPENID_PROVIDER_URL": provider_url,
        "APP_AUTH__MODE": "hf_oauth",
        "APP_AUTH__ALLOWED_USERS": '["alice"]',
        "APP_AUTH__ALLOWED_ORGS": '["acme"]',
    }


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    with run_server_in_thread() as oidc:
        url = f"http://localhost:{oidc.server_port}"
        for sub, claims in ACCOUNTS.items():
            httpx.put(f"{url}/users/{sub}", json=claims).raise_for_status()
        yield url


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, provider: str) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("hf")
    env = {**hf_env(provider), "GRADIO_TEMP_DIR": str(root / "gradio-uploads")}
    with running_server(root / "data", env=env, admin=None) as srv:
        yield srv


def hf_sign_in(server: RunningServer, sub: str) -> httpx.Client:
    """Through /login/huggingface, the provider's consent form and /login/callback, as a browser would."""
    client = httpx.Client(base_url=server.url, timeout=60)
    start = client.get("/login/huggingface")
    assert start.status_code in (302, 307), start.text
    # Gradio marks its session cookie Secure; over plain HTTP on 127.0.0.1 it is carried by hand.
    client.cookies.set("session", start.cookies["session"])
    consent = httpx.post(start.headers["location"], data={"sub": sub})
    assert consent.status_code == 302, consent.text
    callback = client.get(consent.headers["location"])
    assert callback.status_code in (302, 307), callback.text
    client.cookies.set("session", callback.cookies["session"])
    return client


def test_every_route_of_the_hf_mode_is_classified(tmp_path: Path, provider: str) -> None:
    routes = mounted_routes(tmp_path / "data", env=hf_env(provider))
    assert ("GET", "/login/huggingface") in routes and ("GET", "/login/callback") in routes
    missing = [(m, p) for m, p in routes if rule_for(m, p) is None]
    assert not missing, missing


def test_a_stranger_gets_nothing_but_the_sign_in(server: RunningServer) -> None:
    alice = hf_sign_in(server, "alice")
    config = alice.get("/config").json()
    uploaded = alice.post("/gradio_api/upload", files=[("files", ("alice.pdf", b"%PDF-1.4 alice's"))])
    assert uploaded.status_code == 200, uploaded.text
    alices_file = uploaded.json()[0]

    stranger = httpx.Client(base_url=server.url, timeout=60)
    page = stranger.get("/")
    assert page.status_code == 302 and page.headers["location"] == "/login/huggingface", page.headers
    refused: dict[str, int] = {}
    session_hash = uuid.uuid4().hex[:11]
    for dep in config["dependencies"]:  # every UI function, by the queue and by name
        index = dep.get("id")
        joined = stranger.post(
            "/gradio_api/queue/join", json={"data": [], "fn_index": index, "session_hash": session_hash}
        )
        refused[f"queue/join {index}"] = joined.status_code
        if dep.get("api_name"):
            called = stranger.post(f"/gradio_api/call/{dep['api_name']}", json={"data": []})
            refused[f"call {dep['api_name']}"] = called.status_code
    assert len(refused) >= 60, sorted(refused)  # the listing really covered the app's functions
    for method, url in [
        ("GET", "/config"),
        ("GET", "/gradio_api/info"),
        ("GET", f"/gradio_api/file={alices_file}"),
        ("GET", f"/gradio_api/file/{alices_file}"),
        ("POST", "/gradio_api/upload"),
        ("GET", "/gradio_api/upload_progress?upload_id=x"),
        ("GET", f"/gradio_api/queue/data?session_hash={session_hash}"),
        ("GET", "/gradio_api/queue/status"),
        ("GET", f"/gradio_api/heartbeat/{session_hash}"),
        ("POST", "/gradio_api/cancel"),
        ("POST", "/gradio_api/reset"),
        ("POST", "/gradio_api/run/documents"),
        ("POST", "/gradio_api/api/predict"),
        ("GET", "/gradio_api/token"),
        ("GET", "/openapi.json"),
    ]:
        kwargs: dict[str, Any] = {"files": [("files", ("x.pdf", b"%PDF-1.4 x"))]} if url.endswith("upload") else {}
        if method == "POST" and not kwargs:
            kwargs = {"json": {"data": [], "session_hash": session_hash, "fn_index": 0, "event_id": "x"}}
        with stranger.stream(method, url, timeout=30, **kwargs) as response:
            refused[f"{method} {url}"] = response.status_code
    let_through = {k: v for k, v in refused.items() if v not in (401, 404)}
    assert not let_through, let_through
    uploads = server.data_dir.parent / "gradio-uploads"
    assert not any("x.pdf" in p.name for p in uploads.rglob("*")), "a stranger's upload was written"


def test_only_allowed_accounts_get_in(server: RunningServer) -> None:
    for name in ("alice", "carol"):  # by name, and by organisation
        client = hf_sign_in(server, name)
        assert client.get("/").status_code == 200
        documents = run_event(client, fn_index(client, "documents"), [])
        assert documents.success, (name, documents)
        uploaded = client.post("/gradio_api/upload", files=[("files", (f"{name}.pdf", b"%PDF-1.4 x"))])
        assert uploaded.status_code == 200, uploaded.text

    mallory = hf_sign_in(server, "mallory")
    page = mallory.get("/")
    assert page.status_code == 403 and "not allowed" in page.text, page.text
    assert mallory.get("/config").status_code == 403
    assert mallory.get("/gradio_api/info").status_code == 403
    joined = mallory.post("/gradio_api/queue/join", json={"data": [], "fn_index": 0, "session_hash": "m1"})
    assert joined.status_code == 403
    upload = mallory.post("/gradio_api/upload", files=[("files", ("mallory.pdf", b"%PDF-1.4 x"))])
    assert upload.status_code == 403

    # Signing out ends it: the same client is a stranger again.
    alice = hf_sign_in(server, "alice")
    out = alice.get("/logout", follow_redirects=False)
    assert out.status_code in (302, 307)
    alice.cookies.set("session", out.cookies.get("session", ""))
    assert alice.get("/config").status_code == 401
