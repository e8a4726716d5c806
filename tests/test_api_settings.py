"""The API's settings and its self-contained docs page (issue 30), against a running server started
with api.rate_limit_per_minute 5 and api.max_body_bytes 8192 (as environment variables): a token's
sixth request in a minute is refused, a body over the bound is refused before it is read; the docs
page and its Swagger UI files answer from the app with no external address in the page; a refused
token is audited over HTTP with its prefix alone, once a minute per prefix and client."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fixtures.api import add_user, create_token
from tests.fixtures.server import RunningServer, running_server

LIMIT, BODY = 5, 8192


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    env = {"APP_API__RATE_LIMIT_PER_MINUTE": str(LIMIT), "APP_API__MAX_BODY_BYTES": str(BODY)}
    with running_server(tmp_path_factory.mktemp("api-settings") / "data", env=env) as srv:
        add_user(srv.data_dir, "dana")
        yield srv


def _client(server: RunningServer, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=server.url, headers=headers, timeout=30)


def test_the_rate_limit_is_the_setting(server: RunningServer) -> None:
    token = create_token(server.data_dir, "dana", "read")
    with _client(server, token) as c:
        codes = [c.get("/v1/models").status_code for _ in range(LIMIT + 2)]
        assert codes == [200] * LIMIT + [429, 429]
        error = c.get("/api/v1/documents").json()["error"]
        assert error["code"] == "rate_limited" and f"at most {LIMIT} requests a minute" in error["message"]


def test_the_json_body_bound_is_the_setting(server: RunningServer) -> None:
    token = create_token(server.data_dir, "dana", "ask")
    with _client(server, token) as c:
        small = c.post("/api/v1/ask", json={"question": "x", "padding": "y" * (BODY - 200)})
        assert small.status_code == 422, small.text  # read and refused for its unknown field, not its size
        big = c.post("/api/v1/ask", json={"question": "x", "padding": "y" * BODY})
        assert big.status_code == 413 and f"at most {BODY} bytes" in big.json()["error"]["message"]
        chunked = c.post(
            "/v1/chat/completions",
            content=iter([b'{"model": "my-documents", "messages": [', b" " * BODY, b"]}"]),
            headers={"content-type": "application/json"},
        )
        assert chunked.status_code == 413  # no Content-Length: cut while it is read


def test_the_docs_page_and_its_assets_answer_from_the_app(server: RunningServer) -> None:
    with _client(server) as c:
        page = c.get("/api/v1/docs")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        html = page.text
        assert "swagger-ui" in html and not re.search(r"(?i)(https?:)?//[a-z0-9]", html), html
        csp = page.headers["content-security-policy"]
        assert "script-src 'self';" in csp and "http" not in csp and "unsafe-eval" not in csp
        assert "<script>" not in html  # no inline script: the set-up is a file too
        assets = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert len(assets) == 4 and all(a.startswith("/api/v1/docs/assets/") for a in assets), assets
        kinds = {}
        for path in assets:
            r = c.get(path)
            assert r.status_code == 200 and r.content, path
            kinds[path.rsplit("/", 1)[1]] = r.headers["content-type"].split(";")[0]
            assert "max-age" in r.headers["cache-control"]
        assert kinds == {
            "swagger-ui.css": "text/css",
            "favicon-32x32.png": "image/png",
            "swagger-ui-bundle.js": "text/javascript",
            "init.js": "text/javascript",
        }
        assert "SwaggerUIBundle" in c.get("/api/v1/docs/assets/swagger-ui-bundle.js").text
        assert '"/api/v1/openapi.json"' in c.get("/api/v1/docs/assets/init.js").text
        for other in ("swagger-ui-bundle.js.map", "index.html", "..%2F__init__.py", "../__init__.py"):
            assert c.get(f"/api/v1/docs/assets/{other}").status_code == 404, other
        schema = c.get("/api/v1/openapi.json").json()
        assert schema["info"]["title"] == "PDF Q&A API"
        # Every route names the bearer scheme, so the page's Authorize button sends the token.
        assert schema["components"]["securitySchemes"]["token"] == {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "pdfqa_",
            "description": "A personal access token: `pdfqa_...`",
        }
        operations = [op for item in schema["paths"].values() for op in item.values()]
        assert operations and all(op.get("security") == [{"token": []}] for op in operations)


def _audit(server: RunningServer) -> list[dict[str, Any]]:
    text = (server.data_dir / "logs" / "audit.log").read_text()
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_a_refused_token_is_audited_with_its_prefix_once_a_minute(server: RunningServer) -> None:
    token = create_token(server.data_dir, "dana", "read")
    unknown = "pdfqa_" + "Nope" + "k" * 39
    with _client(server, unknown) as c:
        assert [c.get("/v1/models").status_code for _ in range(4)] == [401] * 4
    with _client(server, "Bearer-some-other-secret-0123456789") as c:
        assert c.get("/v1/models").status_code == 401
    with _client(server, None) as c:
        assert c.get("/v1/models").status_code == 401  # no token presented: nothing to audit
    assert _client(server, token).get("/v1/models").status_code == 200
    refused = [e for e in _audit(server) if e["event"] == "token.refused"]
    assert [(e["token"], e["reason"], e["outcome"], e["client"]) for e in refused] == [
        (unknown[:12], "unknown", "failed", "127.0.0.1"),
        ("-", "malformed", "failed", "127.0.0.1"),
    ]
    assert all(e.get("request_id") for e in refused)
    text = (server.data_dir / "logs" / "audit.log").read_text()
    assert unknown[12:] not in text and "some-other-secret" not in text
