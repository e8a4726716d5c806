"""Security round 3 at the HTTP edge (issue 23, items 6, 7, 8, 10, 12), over real HTTP against
`python -m app serve`, and in Chromium where the browser matters:

- every route the app mounts is classified (closed, public, signed in; ids bound to their user)
- a repeated query parameter, and every route that names a session hash or an event id, cannot
  reach another user's session (the victim, bob, keeps his open session)
- the direct-execution routes (outside the queue) and /gradio_api/token are closed
- signed-in answers and the login's answers are never cached
- an unknown function is a 4xx, with no traceback anywhere
- the page works under the tightened Content-Security-Policy
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from app.web.gradio_routes import Access, Bind, rule_for
from app.web.session_bindings import SessionBindings
from tests.conftest import DATA
from tests.fixtures.gradio_http import fn_index, run_event, signed_in
from tests.fixtures.llm_server import FakeOpenAIServer
from tests.fixtures.routes import mounted_routes
from tests.fixtures.server import ADMIN, RunningServer, running_server
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, fill_login
from tests.test_security_http import add_user

BOB = ("bob", "bobs-long-password")
MALLORY = ("mallory", "mallorys-long-password")
REFUSED = {400, 401, 403, 404, 405, 422}


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        server.reply_fn = lambda messages: "natbib prints superscript numbers with the super option [1]."
        yield server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, llm: FakeOpenAIServer) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("edge3")
    env = {
        "GRADIO_TEMP_DIR": str(root / "gradio-uploads"),
        "APP_LLM__API_BASE": llm.base_url,
        "APP_LLM__API_KEY": "sk-test",
        "APP_LLM__MODEL": "test-chat",
    }
    with running_server(root / "data", env=env) as srv:
        add_user(srv.data_dir, *BOB)
        add_user(srv.data_dir, *MALLORY)
        yield srv


def status_of(client: httpx.Client, method: str, url: str, **kwargs: Any) -> int:
    """The status of a request whose answer may be an endless event stream (headers only)."""
    with client.stream(method, url, timeout=30, **kwargs) as response:
        return response.status_code


def join(client: httpx.Client, index: int, session_hash: str) -> str:
    joined = client.post(
        "/gradio_api/queue/join",
        json={"data": [], "fn_index": index, "session_hash": session_hash, "event_data": None, "trigger_id": None},
    )
    assert joined.status_code == 200, joined.text
    return str(joined.json()["event_id"])


def read_completion(client: httpx.Client, session_hash: str, event_id: str) -> dict[str, Any]:
    with client.stream("GET", "/gradio_api/queue/data", params={"session_hash": session_hash}, timeout=60) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed" and message.get("event_id") == event_id:
                    return dict(message)
    raise AssertionError("the event never completed on its own stream")


# ---- 6. every route classified; session hashes and event ids bound ------------------------------


def test_every_mounted_route_is_classified_by_the_edge(tmp_path: Path) -> None:
    """A route a new Gradio version adds fails here until app/web/gradio_routes.py classifies it."""
    routes = mounted_routes(tmp_path / "data")
    assert ("POST", "/gradio_api/queue/join") in routes and ("GET", "/config") in routes  # the listing works
    missing = [(m, p) for m, p in routes if rule_for(m, p) is None]
    assert not missing, f"routes the edge does not know: {missing}"
    for method, path in routes:
        rule = rule_for(method, path)
        assert rule is not None
        if re.search(r"\{(session_hash|event_id)\}", path):
            assert rule.access is Access.CLOSED or rule.bind is not Bind.NONE, (method, path)
    assert rule_for("GET", "/gradio_api/queue/data").bind is Bind.SESSION_QUERY  # type: ignore[union-attr]
    for path in ("/gradio_api/queue/join", "/gradio_api/cancel", "/gradio_api/call/{api_name}"):
        assert rule_for("POST", path).bind is Bind.SESSION_BODY  # type: ignore[union-attr]


def test_a_repeated_query_parameter_is_refused(server: RunningServer) -> None:
    bob, mallory = signed_in(server, *BOB), signed_in(server, *MALLORY)
    documents = fn_index(bob, "documents")
    victim, own = uuid.uuid4().hex[:11], uuid.uuid4().hex[:11]
    join(bob, documents, victim)
    assert run_event(mallory, documents, [], session_hash=own).success
    for pairs in ([own, victim], [victim, own]):
        params = [("session_hash", h) for h in pairs]
        assert status_of(mallory, "GET", "/gradio_api/queue/data", params=params) == 400
    assert mallory.get("/gradio_api/info", params=[("page", ""), ("page", "x")]).status_code == 400
    assert bob.get("/gradio_api/queue/data", params=[("session_hash", victim)] * 2).status_code == 400


def test_no_route_reaches_another_users_open_session(server: RunningServer) -> None:
    bob, mallory = signed_in(server, *BOB), signed_in(server, *MALLORY)
    anonymous = httpx.Client(base_url=server.url, timeout=30)
    documents = fn_index(bob, "documents")
    victim, own = uuid.uuid4().hex[:11], uuid.uuid4().hex[:11]
    upload_id = uuid.uuid4().hex[:11]
    uploaded = bob.post(
        "/gradio_api/upload", params={"upload_id": upload_id}, files=[("files", ("a.pdf", b"%PDF-1.4 bob"))]
    )
    assert uploaded.status_code == 200, uploaded.text
    event = join(bob, documents, victim)  # bob's answer waits on his stream, unread
    assert run_event(mallory, documents, [], session_hash=own).success

    body = {"data": [], "fn_index": documents, "session_hash": victim, "event_data": None, "trigger_id": None}
    attempts: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/gradio_api/queue/data", {"params": {"session_hash": victim}}),
        ("GET", f"/gradio_api/call/documents/{victim}", {}),
        ("GET", f"/gradio_api/call/documents/{event}", {}),
        ("GET", f"/gradio_api/call/v2/documents/{event}", {}),
        ("POST", "/gradio_api/call/documents", {"json": {"data": [], "session_hash": victim}}),
        ("POST", "/gradio_api/queue/join", {"json": body}),
        ("POST", "/gradio_api/run/predict", {"json": {**body, "fn_index": stop_fn(bob)}}),
        ("POST", "/gradio_api/cancel", {"json": {"session_hash": victim, "fn_index": documents, "event_id": event}}),
        ("POST", "/gradio_api/cancel", {"json": {"session_hash": own, "fn_index": documents, "event_id": event}}),
        ("GET", f"/gradio_api/heartbeat/{victim}", {}),
        ("POST", f"/gradio_api/stream/{event}", {"json": body}),
        ("POST", f"/gradio_api/stream/{event}/close", {}),
        ("GET", f"/gradio_api/stream/{victim}/run/0/playlist.m3u8", {}),
        ("POST", "/gradio_api/component_server", {"json": {**body, "component_id": 1, "fn_name": "x"}}),
        ("GET", "/gradio_api/deep_link", {"params": {"session_hash": victim}}),
        ("GET", "/gradio_api/upload_progress", {"params": {"upload_id": upload_id}}),
    ]
    answers = {}
    for name, client in (("mallory", mallory), ("anonymous", anonymous)):
        for method, url, kwargs in attempts:
            answers[(name, method, url, str(kwargs)[:60])] = status_of(client, method, url, **kwargs)
    let_through = {k: v for k, v in answers.items() if v not in REFUSED}
    assert not let_through, let_through
    assert all(v in (401, 404) for k, v in answers.items() if k[0] == "anonymous"), answers

    # bob's session is intact: his waiting answer is still his to read, and the session goes on.
    completed = read_completion(bob, victim, event)
    assert completed["success"], completed
    assert run_event(bob, documents, [], session_hash=victim).success
    assert status_of(bob, "GET", f"/gradio_api/heartbeat/{victim}") == 200


# ---- 7. direct execution closed; the queued REST API stays, bound to its user ------------------


def stop_fn(client: httpx.Client) -> int:
    """The one function made to run outside the queue (the stop button must not wait behind the answer)."""
    direct = [d["id"] for d in client.get("/config").json()["dependencies"] if d.get("queue") is False]
    assert len(direct) == 1, direct
    return int(direct[0])


def test_direct_execution_runs_no_queued_function(server: RunningServer) -> None:
    bob = signed_in(server, *BOB)
    documents, session_hash = fn_index(bob, "documents"), uuid.uuid4().hex[:11]
    for path in (
        "/gradio_api/run/documents",
        "/gradio_api/api/documents",
        "/gradio_api/run/predict",
        "/gradio_api/api/predict/",
        "/gradio_api/call/v2/documents",
    ):
        for body in ({"data": [], "fn_index": documents, "session_hash": session_hash}, {"data": []}):
            response = bob.post(path, json=body)
            assert response.status_code in (404, 405), (path, response.status_code, response.text[:200])
    # the stop button's function, and only it, runs directly, for the owner of the session
    stop = {"data": [], "fn_index": stop_fn(bob), "session_hash": session_hash}
    assert run_event(bob, documents, [], session_hash=session_hash).success
    assert bob.post("/gradio_api/run/predict", json=stop).status_code == 200
    assert signed_in(server, *MALLORY).post("/gradio_api/run/predict", json=stop).status_code == 403
    assert httpx.post(f"{server.url}/gradio_api/run/predict", json=stop).status_code == 401
    # /call goes through the queue (server.concurrency applies) and stays usable by its own user
    started = bob.post("/gradio_api/call/documents", json={"data": []})
    assert started.status_code == 200, started.text
    event_id = started.json()["event_id"]
    mallory = signed_in(server, *MALLORY)
    assert status_of(mallory, "GET", f"/gradio_api/call/documents/{event_id}") == 403
    stream = bob.get(f"/gradio_api/call/documents/{event_id}", timeout=60)
    assert stream.status_code == 200 and "event: complete" in stream.text, stream.text[:300]


# ---- 8. the session token is not handed to scripts ---------------------------------------------


def test_the_session_token_is_not_handed_to_scripts(server: RunningServer) -> None:
    bob = signed_in(server, *BOB)
    token = bob.cookies["access-token-pdfqa"]
    for path in ("/gradio_api/token", "/gradio_api/token/"):
        response = bob.get(path)
        assert response.status_code == 404, response.text
        assert token not in response.text


# ---- 10. nothing signed-in is cached -----------------------------------------------------------


def test_signed_in_answers_and_the_login_are_never_cached(server: RunningServer) -> None:
    def no_store(response: httpx.Response) -> bool:
        return response.headers.get("cache-control") == "no-store"

    login = httpx.post(f"{server.url}/login", data={"username": BOB[0], "password": BOB[1]})
    assert login.status_code == 200 and no_store(login), login.headers
    wrong = httpx.post(f"{server.url}/login", data={"username": BOB[0], "password": "wrong password"})
    assert wrong.status_code == 400 and no_store(wrong), wrong.headers
    bob = signed_in(server, *BOB)
    page = bob.get("/")
    for response in (
        page,
        bob.get("/config"),
        bob.get("/gradio_api/info"),
        bob.get("/logout/", follow_redirects=False),
    ):
        assert no_store(response), (response.url, response.headers)
    bob = signed_in(server, *BOB)
    session_hash = uuid.uuid4().hex[:11]
    join(bob, fn_index(bob, "documents"), session_hash)
    with bob.stream("GET", "/gradio_api/queue/data", params={"session_hash": session_hash}) as events:
        assert events.status_code == 200 and no_store(events), events.headers
    uploaded = bob.post("/gradio_api/upload", files=[("files", ("bob.pdf", (DATA / "natbib.pdf").read_bytes()))])
    assert uploaded.status_code == 200, uploaded.text
    private = bob.get(f"/gradio_api/file={uploaded.json()[0]}")
    assert private.status_code == 200 and no_store(private), private.headers
    # the page's own scripts (the same for everyone) may stay in the browser's cache
    script = re.search(r'src="\./(assets/[^"]+\.js)"', page.text)
    assert script, page.text[:500]
    asset = bob.get(f"/{script.group(1)}")
    assert asset.status_code == 200 and "no-store" not in asset.headers.get("cache-control", ""), asset.headers


# ---- 12. an unknown function is the client's error ---------------------------------------------


def test_an_unknown_function_is_a_client_error_without_a_traceback(server: RunningServer) -> None:
    bob = signed_in(server, *BOB)
    before = len(server.log())
    for fn in (99999, -1, "documents", None, True):
        joined = bob.post(
            "/gradio_api/queue/join", json={"data": [], "fn_index": fn, "session_hash": uuid.uuid4().hex[:11]}
        )
        assert 400 <= joined.status_code < 500, (fn, joined.status_code, joined.text[:300])
        assert "Traceback" not in joined.text
    for path in ("/gradio_api/call/no-such-function", "/gradio_api/call/no-such-function/"):
        called = bob.post(path, json={"data": []})
        assert 400 <= called.status_code < 500, (path, called.status_code, called.text[:300])
    assert run_event(bob, fn_index(bob, "documents"), []).success  # the server is fine
    assert "Traceback" not in server.log()[before:], server.log()[before:][-3000:]


# ---- 8. the page works under the tightened CSP, without /gradio_api/token ----------------------


@pytest.mark.browser
def test_the_page_works_under_the_content_security_policy(server: RunningServer) -> None:
    csp = httpx.get(server.url).headers["content-security-policy"]
    assert "script-src-attr 'none'" in csp and "worker-src 'self';" in csp, csp
    assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp and "base-uri 'self'" in csp
    violations: list[str] = []
    token_requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        context.set_default_timeout(30_000)
        page = context.new_page()
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        page.on("request", lambda r: token_requests.append(r.url) if "/gradio_api/token" in r.url else None)
        page.add_init_script(
            "document.addEventListener('securitypolicyviolation',"
            " e => console.log('Content Security Policy violation ' + e.violatedDirective + ' ' + e.blockedURI))"
        )
        fill_login(page, server.url, *ADMIN)
        expect(page.locator("#whoami")).to_contain_text(ADMIN[0])
        page.get_by_role("tab", name="Documents").click()
        page.locator("#files input[type=file]").set_input_files(DATA / "natbib.pdf")
        expect(page.locator("#jobs")).to_contain_text(re.compile(r"\bdone\b"), timeout=120_000)
        page.get_by_role("tab", name="Chat").click()
        page.locator("#question textarea").fill("How do I get superscript citation numbers with natbib?")
        page.locator("#send").click()
        chat = page.locator("#chatbot")
        expect(chat).to_contain_text("Sources")
        expect(chat).to_contain_text("super option")
        expect(page.locator("#page-image img")).to_be_visible()
        browser.close()
    assert not violations, violations
    assert not token_requests, token_requests


def test_one_users_new_session_hashes_never_free_another_users_binding() -> None:
    """Bindings are bounded per user: bob's flood of new keys drops only his own oldest ones, so
    alice's hash never becomes free for him to claim."""
    bindings = SessionBindings(per_user=100)
    assert bindings.claim("alice-tab", "alice")
    assert bindings.claim("bob-first", "bob")
    for i in range(1_000):
        assert bindings.claim(f"bob-{i}", "bob")
    assert not bindings.claim("alice-tab", "bob") and bindings.owner("alice-tab") == "alice"
    assert bindings.owner("bob-first") is None  # his own oldest went
    assert bindings.owner("bob-999") == "bob"
