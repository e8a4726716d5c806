"""server.allowed_origins over real HTTP (`python -m app serve`): a listed origin may call the app
from a browser with its cookies (CORS with credentials, and the edge's origin check lets its writes
through); any other origin gets no CORS grant and its writes are refused."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from app.config import load_settings
from tests.conftest import ROOT
from tests.fixtures.server import ADMIN, RunningServer, running_server

PARTNER = "https://partner.example.com"
STRANGER = "https://evil.example.net"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    env = {"APP_SERVER__ALLOWED_ORIGINS": json.dumps([PARTNER])}
    with running_server(tmp_path_factory.mktemp("cors") / "data", env=env) as srv:
        yield srv


def _preflight(server: RunningServer, origin: str, path: str = "/login") -> httpx.Response:
    return httpx.options(
        f"{server.url}{path}",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=30,
    )


def _login(server: RunningServer, origin: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/login",
        data={"username": ADMIN[0], "password": ADMIN[1]},
        headers={"Origin": origin},
        timeout=30,
    )


def test_a_listed_origin_gets_cors_with_credentials(server: RunningServer) -> None:
    pre = _preflight(server, PARTNER)
    assert pre.status_code == 200
    assert pre.headers["access-control-allow-origin"] == PARTNER  # the origin itself, never "*"
    assert pre.headers["access-control-allow-credentials"] == "true"
    assert "POST" in pre.headers["access-control-allow-methods"]
    join = _preflight(server, PARTNER, "/gradio_api/queue/join")  # the page's JSON calls are preflighted
    assert join.status_code == 200 and join.headers["access-control-allow-origin"] == PARTNER
    assert "content-type" in join.headers["access-control-allow-headers"].lower()

    signed_in = _login(server, PARTNER)
    assert signed_in.status_code == 200, signed_in.text  # the edge let the cross-origin write through
    assert signed_in.json() == {"success": True}
    assert signed_in.headers["access-control-allow-origin"] == PARTNER
    assert signed_in.headers["access-control-allow-credentials"] == "true"
    assert "set-cookie" in signed_in.headers

    ready = httpx.get(f"{server.url}/readyz", headers={"Origin": PARTNER}, timeout=30)
    assert ready.headers["access-control-allow-origin"] == PARTNER


def test_an_origin_not_listed_gets_no_cors_and_its_writes_are_refused(server: RunningServer) -> None:
    pre = _preflight(server, STRANGER)
    assert pre.status_code >= 400
    assert "access-control-allow-origin" not in pre.headers

    refused = _login(server, STRANGER)
    assert refused.status_code == 403
    assert "set-cookie" not in refused.headers
    assert "access-control-allow-origin" not in refused.headers

    ready = httpx.get(f"{server.url}/readyz", headers={"Origin": STRANGER}, timeout=30)
    assert ready.status_code == 200 and "access-control-allow-origin" not in ready.headers
    assert "refused cross-origin request origin=https://evil.example.net" in server.log()


def test_the_setting_reads_origins_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_SERVER__ALLOWED_ORIGINS", json.dumps(["https://Partner.Example.com"]))
    assert load_settings(ROOT / "config.yaml").server.allowed_origins == [PARTNER]  # compared lower-case
