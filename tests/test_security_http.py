"""Regression tests for the holes of "Security fixes first", each reproduced from outside over real
HTTP against `python -m app serve` (two users, admin and bob, on 127.0.0.1), the way they were found.

- upload events that name a path on the server's disk
- cross-origin reads and writes, framing, cookie attributes, security headers
- sessions that outlive their user, expire, or are used by another user
- lock-out of someone else's account, spoofed forwarded addresses
- unbounded request bodies and uploads, staged files left behind
- world-readable data, ignored admin variables, /metrics open to anyone
(The remote-Markdown case is a browser test: tests/test_browser_security.py.)
"""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import DATA
from tests.fixtures.cli import run_app
from tests.fixtures.gradio_http import fn_index, run_event, signed_in
from tests.fixtures.server import ADMIN, RunningServer, running_server

BOB = ("bob", "bobs-long-password")
FOREIGN = "https://evil.example"


def add_user(data_dir: Path, name: str, password: str) -> None:
    result = run_app(data_dir, "users", "add", name, stdin=password + "\n")
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """Default settings, except small upload limits and a private Gradio upload folder."""
    root = tmp_path_factory.mktemp("sec")
    env = {
        "GRADIO_TEMP_DIR": str(root / "gradio-uploads"),
        "APP_DOCUMENTS__MAX_PENDING_UPLOAD_MB": "100",
        "APP_DOCUMENTS__MAX_UPLOAD_FILES": "5",
    }
    with running_server(root / "data", env=env) as srv:
        add_user(srv.data_dir, *BOB)
        yield srv


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """Behind a trusted proxy on 127.0.0.1, with short cool-downs and sessions, and /metrics
    restricted to a network the tests are not in."""
    env = {
        "APP_SERVER__TRUSTED_PROXIES": '["127.0.0.1/32"]',
        "APP_AUTH__LOCKOUT_S": "4",
        "APP_AUTH__SESSION_IDLE_MINUTES": "0.1",
        "APP_METRICS__ALLOWED_NETWORKS": '["10.0.0.0/8"]',
        "APP_METRICS__TOKEN": "metrics-token-for-tests",
    }
    with running_server(tmp_path_factory.mktemp("proxied") / "data", env=env) as srv:
        add_user(srv.data_dir, *BOB)
        yield srv


# ---- 1. files on the server's disk through the upload event ----------------------------------


def test_upload_event_refuses_any_path_that_was_not_uploaded(server: RunningServer) -> None:
    admin = signed_in(server, *ADMIN)
    upload = fn_index(admin, "upload")
    # admin's own stored original: the path bob could guess (owner hash / content sha256)
    ok = admin.post("/gradio_api/upload", files=[("files", ("natbib.pdf", (DATA / "natbib.pdf").read_bytes()))])
    assert ok.status_code == 200, ok.text
    result = run_event(admin, upload, [[{"path": ok.json()[0], "meta": {"_type": "gradio.FileData"}}]])
    assert result.success, result
    stored = _wait_for_original(server.data_dir)

    bob = signed_in(server, *BOB)
    outside = server.data_dir.parent / "outside.pdf"
    outside.write_bytes((DATA / "natbib.pdf").read_bytes())
    upload_dir = server.data_dir.parent / "gradio-uploads"
    upload_dir.mkdir(exist_ok=True)
    link = upload_dir / "link.pdf"
    link.symlink_to(outside)  # inside the upload folder, pointing out of it
    answers = []
    for path in (
        stored,
        outside,
        link,
        DATA / "natbib.pdf",
        Path("/nonexistent/missing.pdf"),
        server.data_dir / "app.db",
    ):
        result = run_event(bob, upload, [[{"path": str(path), "meta": {"_type": "gradio.FileData"}}]])
        assert not result.success, (path, result)
        answers.append((result.success, result.error, result.output))
    assert len(set(map(str, answers))) == 1, answers  # a missing file answers like an existing one
    documents = run_event(bob, fn_index(bob, "documents"), [])
    assert documents.success and documents.output[0]["data"] == []


FILE_META = {"_type": "gradio.FileData"}


def test_chat_history_naming_server_files_is_never_served_back(server: RunningServer) -> None:
    """The history the browser sends with a question goes back out with the answer: a file entry in
    it naming a path on the server (another user's original, the database, a system file) must not
    come back as a file to fetch."""
    bob = signed_in(server, *BOB)
    ask = fn_index(bob, "ask")
    targets = [
        *sorted((server.data_dir / "files").rglob("*.pdf"))[:1],
        server.data_dir / "app.db",
        Path("/etc/hostname"),
    ]
    for target in targets:
        history = [
            {
                "role": "user",
                "content": [{"type": "file", "file": {"path": str(target), "meta": {"_type": "gradio.FileData"}}}],
            },
            {"role": "assistant", "content": [{"type": "text", "text": "earlier answer"}]},
        ]
        result = run_event(bob, ask, ["What is natbib?", history, None, []])
        shown = json.dumps(result.output) + json.dumps(result.messages)
        assert str(target) not in shown, (target, result.error)
        assert "/gradio_api/file=" not in shown
        if result.success:  # answered: the history came back as text only
            chat = result.output[0]
            assert all(isinstance(m.get("content"), str | list) for m in chat)
            assert "earlier answer" in shown


def _wait_for_original(data_dir: Path, timeout: float = 60) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = list((data_dir / "files").rglob("*.pdf"))
        if found:
            return found[0]
        time.sleep(0.3)
    raise AssertionError("no stored original")


# ---- 2. other origins ----------------------------------------------------------------------


def test_other_origins_get_no_cors_and_cannot_write(server: RunningServer) -> None:
    bob = signed_in(server, *BOB)
    host = {"Host": "pdfqa.example.com"}
    for origin in (FOREIGN, "null"):
        r = bob.get("/config", headers={**host, "Origin": origin})
        assert r.status_code == 200 and "access-control-allow-origin" not in r.headers, r.headers
        assert "access-control-allow-credentials" not in r.headers
    pre = httpx.options(
        f"{server.url}/gradio_api/queue/join",
        headers={**host, "Origin": FOREIGN, "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in pre.headers
    login = httpx.post(
        f"{server.url}/login", data=dict(zip(("username", "password"), BOB, strict=True)), headers={"Origin": FOREIGN}
    )
    assert login.status_code == 403 and "set-cookie" not in login.headers
    join = bob.post(
        "/gradio_api/queue/join", json={"fn_index": 0, "data": [], "session_hash": "x1"}, headers={"Origin": FOREIGN}
    )
    assert join.status_code == 403
    logout = bob.get("/logout", headers={"Sec-Fetch-Site": "cross-site"}, follow_redirects=False)
    assert logout.status_code == 403
    assert bob.get("/config").status_code == 200  # still signed in
    same = bob.post(
        "/gradio_api/queue/join", json={"fn_index": 0, "data": [], "session_hash": "x2"}, headers={"Origin": server.url}
    )
    assert same.status_code != 403


def test_security_headers_and_cookie_attributes(server: RunningServer, proxied: RunningServer) -> None:
    for path in ("/", "/config", "/healthz", "/login"):
        r = httpx.get(f"{server.url}{path}")
        csp = r.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp and "img-src 'self' data: blob:" in csp, (path, csp)
        assert r.headers.get("x-frame-options") == "DENY"
        assert r.headers.get("x-content-type-options") == "nosniff"
        assert r.headers.get("referrer-policy") == "same-origin"
    plain = httpx.post(f"{server.url}/login", data={"username": BOB[0], "password": BOB[1]})
    cookies = plain.headers.get_list("set-cookie")
    assert len(cookies) == 1, cookies  # no second, unsecured copy of the token
    assert "samesite=lax" in cookies[0].lower() and "httponly" in cookies[0].lower()
    assert "secure" not in cookies[0].lower()  # plain HTTP: a Secure cookie would never come back
    # Over HTTPS, as a trusted proxy says, the cookie is Secure; an untrusted client cannot say so.
    https = httpx.post(
        f"{proxied.url}/login", data={"username": BOB[0], "password": BOB[1]}, headers={"X-Forwarded-Proto": "https"}
    )
    assert "; secure" in https.headers["set-cookie"].lower()
    spoofed = httpx.post(
        f"{server.url}/login", data={"username": BOB[0], "password": BOB[1]}, headers={"X-Forwarded-Proto": "https"}
    )
    assert "; secure" not in spoofed.headers["set-cookie"].lower()


# ---- 3. sessions ---------------------------------------------------------------------------


def _can_use(client: httpx.Client) -> bool:
    r = client.post("/gradio_api/queue/join", json={"fn_index": 0, "data": [], "session_hash": uuid.uuid4().hex[:11]})
    return r.status_code != 401


def test_sessions_end_with_disable_password_change_and_removal(server: RunningServer) -> None:
    add_user(server.data_dir, "carol", "carols-long-password")
    carol = signed_in(server, "carol", "carols-long-password")
    second = signed_in(server, "carol", "carols-long-password")
    assert _can_use(carol) and _can_use(second)
    assert run_app(server.data_dir, "users", "disable", "carol").returncode == 0
    assert not _can_use(carol) and not _can_use(second)
    assert carol.get("/gradio_api/info").status_code == 401
    assert run_app(server.data_dir, "users", "enable", "carol").returncode == 0
    assert not _can_use(carol)  # enabling again does not revive old sessions
    carol = signed_in(server, "carol", "carols-long-password")
    assert run_app(server.data_dir, "users", "set-password", "carol", stdin="carols-new-password\n").returncode == 0
    assert not _can_use(carol)
    carol = signed_in(server, "carol", "carols-new-password")
    assert run_app(server.data_dir, "users", "remove", "carol").returncode == 0
    assert not _can_use(carol)
    # a new account with the same name does not inherit the old sessions
    add_user(server.data_dir, "carol", "carols-third-password")
    assert not _can_use(carol)


def test_logout_ends_the_session_on_the_server(server: RunningServer) -> None:
    bob = signed_in(server, *BOB)
    token = bob.cookies.get("access-token-pdfqa")
    assert token and _can_use(bob)
    bob.get("/logout", follow_redirects=False)
    replay = httpx.Client(base_url=server.url, cookies={"access-token-pdfqa": token})
    assert not _can_use(replay)  # the old cookie is worthless, not merely deleted from the browser


def test_idle_sessions_expire(proxied: RunningServer) -> None:
    bob = signed_in(proxied, *BOB)
    assert _can_use(bob)
    time.sleep(7)  # session_idle_minutes 0.1 = 6 s
    assert not _can_use(bob)


def test_a_session_hash_belongs_to_its_user_and_deep_links_are_off(server: RunningServer) -> None:
    admin, bob = signed_in(server, *ADMIN), signed_in(server, *BOB)
    documents = fn_index(admin, "documents")
    shared = uuid.uuid4().hex[:11]
    assert run_event(admin, documents, [], session_hash=shared).success
    stolen = run_event(bob, documents, [], session_hash=shared)
    assert not stolen.success and "403" in str(stolen.error)
    assert bob.get("/gradio_api/queue/data", params={"session_hash": shared}).status_code == 403
    assert bob.get("/gradio_api/deep_link", params={"session_hash": shared}).status_code == 404
    assert admin.get("/", params={"deep_link": "abc"}).status_code == 404


def test_the_server_fetches_no_url_given_as_a_file(server: RunningServer) -> None:
    """Gradio fetches a URL passed as a "file" (/file=URL, and its older alias /file/URL): from the
    app's own origin that would pass the CSP's img-src 'self' and carry data out. Both are refused."""
    bob = signed_in(server, *BOB)
    for form in ("file=", "file/", "file//"):
        for url in ("http://example.com/x.png", "https://example.com/x.png", "HTTPS://example.com/x.png"):
            r = bob.get(f"/gradio_api/{form}{url}")
            assert r.status_code == 404, (form, url, r.status_code)
    assert bob.get("/gradio_api/file=/etc/hostname").status_code in (403, 404)  # and no local file either


# ---- 4. lock-out ---------------------------------------------------------------------------


def _login(server: RunningServer, password: str, address: str | None = None, user: str = BOB[0]) -> httpx.Response:
    headers = {"X-Forwarded-For": address} if address else {}
    return httpx.post(f"{server.url}/login", data={"username": user, "password": password}, headers=headers)


def test_failures_lock_only_the_attackers_address_and_decay(proxied: RunningServer) -> None:
    attacker, owner = "203.0.113.5", "198.51.100.7"
    for _ in range(5):
        assert _login(proxied, "wrong-password", attacker).status_code == 400
    refused = _login(proxied, BOB[1], attacker)
    assert refused.status_code == 400 and "Too many" in refused.text and refused.headers.get("retry-after")
    assert _login(proxied, BOB[1], owner).status_code == 200  # bob from his own address gets in
    assert _login(proxied, ADMIN[1], attacker, user=ADMIN[0]).status_code == 200  # and admin from the same one
    # Attempts refused during the cool-down are not counted and do not restart it.
    time.sleep(2)
    assert _login(proxied, "wrong-again", attacker).status_code == 400
    time.sleep(2.5)  # 4.5 s after the fifth failure: the 4 s cool-down is over
    assert _login(proxied, BOB[1], attacker).status_code == 200


def test_forwarded_addresses_count_only_from_trusted_proxies(server: RunningServer) -> None:
    add_user(server.data_dir, "dave", "daves-long-password")
    for i in range(5):  # an untrusted client "changes" its address with every try
        assert _login(server, "wrong-password", f"192.0.2.{i}", user="dave").status_code == 400
    blocked = _login(server, "daves-long-password", "192.0.2.99", user="dave")
    assert "Too many" in blocked.text  # all five were counted for 127.0.0.1


# ---- 6. unbounded requests -----------------------------------------------------------------


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _raw_post(server: RunningServer, path: str, headers: dict[str, str], body: bytes) -> int:
    """Send the headers and the first part of a body, then read the status: a server that reads
    (or buffers) the whole announced body before answering would never answer here."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        head = f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        sock.sendall(head.encode() + body)
        status_line = sock.makefile("rb").readline().decode()
    return int(status_line.split()[1])


def _chunked(total_mb: int) -> bytes:
    piece = b"x" * (1024 * 1024)
    return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(total_mb))


def test_large_bodies_are_refused_before_they_are_read(server: RunningServer) -> None:
    before = _rss_kb(server.process.pid)
    json_type = {"Content-Type": "application/json"}
    # 100 MB announced, anonymous: refused on the announcement, nothing read
    assert (
        _raw_post(server, "/gradio_api/queue/join", {**json_type, "Content-Length": str(100 << 20)}, b'{"data": ["')
        == 413
    )
    # no length announced, anonymous: refused before the body is read
    chunked = {**json_type, "Transfer-Encoding": "chunked"}
    assert _raw_post(server, "/gradio_api/queue/join", chunked, _chunked(1)) == 401
    # signed in, no length announced: cut off at server.max_request_kb (2 MB)
    token = signed_in(server, *BOB).cookies["access-token-pdfqa"]
    assert (
        _raw_post(server, "/gradio_api/queue/join", {**chunked, "Cookie": f"access-token-pdfqa={token}"}, _chunked(3))
        == 413
    )
    assert _rss_kb(server.process.pid) - before < 60 * 1024, "the server buffered a refused body"


def test_uploads_are_bounded_per_request_and_per_user(server: RunningServer) -> None:
    bob = signed_in(server, *BOB)
    upload_dir = server.data_dir.parent / "gradio-uploads"
    before = _folder_bytes(upload_dir)
    part = os.urandom(45 * 1024 * 1024)
    four = [("files", (f"big{i}.pdf", part[i:] + part[:i])) for i in range(4)]  # 180 MB, limit 100 MB
    assert bob.post("/gradio_api/upload", files=four).status_code == 413
    many = [("files", (f"tiny{i}.pdf", b"%PDF-1.4 tiny")) for i in range(8)]  # limit 5 files
    assert bob.post("/gradio_api/upload", files=many).status_code == 413
    assert _folder_bytes(upload_dir) - before < 1024 * 1024, "refused uploads left files behind"
    # Pending space: 2 x 45 MB uploaded and not submitted, a third upload is refused.
    for i in range(2):
        assert (
            bob.post("/gradio_api/upload", files=[("files", (f"p{i}.pdf", part[i + 9 :] + part[: i + 9]))]).status_code
            == 200
        )
    assert bob.post("/gradio_api/upload", files=[("files", ("p3.pdf", part[:-5]))]).status_code == 413


def test_simultaneous_uploads_share_the_pending_space(server: RunningServer) -> None:
    """Four 45 MB uploads sent at once against 100 MB of pending space: each request counts the
    others still arriving, so at most two get through (all four did when only finished uploads were
    counted)."""
    add_user(server.data_dir, "uploader", "uploaders-long-password")  # pending space of its own
    uploader = signed_in(server, "uploader", "uploaders-long-password")
    part = os.urandom(45 * 1024 * 1024)

    def upload(i: int) -> int:
        body = [("files", (f"par{i}.pdf", part[i + 20 :] + part[: i + 20]))]
        return uploader.post("/gradio_api/upload", files=body, timeout=120).status_code

    with ThreadPoolExecutor(4) as pool:
        codes = sorted(pool.map(upload, range(4)))
    assert codes.count(200) <= 2 and set(codes) <= {200, 413}, codes
    assert codes.count(200) >= 1  # the space is shared, not refused outright


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


def test_a_failed_submit_leaves_nothing_staged(server: RunningServer) -> None:
    bob = signed_in(server, *BOB)
    upload = fn_index(bob, "upload")
    up = bob.post("/gradio_api/upload", files=[("files", ("gone.pdf", b"%PDF-1.4 will vanish"))])
    path = Path(up.json()[0])
    path.unlink()  # the upload disappears before it is submitted (cache clean-up, another instance)
    stored_before = sorted((server.data_dir / "files").rglob("*"))
    result = run_event(bob, upload, [[{"path": str(path), "meta": {"_type": "gradio.FileData"}}]])
    assert not result.success
    staging = server.data_dir / "staging"
    assert not staging.exists() or list(staging.iterdir()) == []
    assert sorted((server.data_dir / "files").rglob("*")) == stored_before  # nothing half-stored


# ---- 7. smaller ----------------------------------------------------------------------------


def test_data_is_private_to_the_service_account(server: RunningServer) -> None:
    _wait_for_original(server.data_dir)
    paths = [server.data_dir / "app.db", *(server.data_dir / "files").rglob("*")]
    for path in paths:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path} is {oct(mode)}"
    assert stat.S_IMODE(server.data_dir.stat().st_mode) == 0o700


def test_admin_variables_ignored_after_the_first_start_are_reported(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running_server(data):
        pass
    with running_server(data) as again:
        log = again.log()
    assert "APP_ADMIN_USERNAME / APP_ADMIN_PASSWORD are ignored" in log
    assert ADMIN[1] not in log


def _scraped(server: RunningServer, result: str) -> float:
    text = httpx.get(f"{server.url}/metrics").text
    found = re.search(rf'^pdfqa_logins_total{{result="{result}"}} ([0-9.e+]+)$', text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_login_failures_and_throttling_move_the_login_metric(server: RunningServer) -> None:
    failed, throttled = _scraped(server, "failed"), _scraped(server, "throttled")
    for i in range(5):
        _login(server, f"wrong-{i}", user="metrics-probe")
    assert _scraped(server, "failed") == failed + 5
    _login(server, "wrong-again", user="metrics-probe")  # the sixth try in a row: refused unchecked
    assert _scraped(server, "throttled") == throttled + 1


def test_metrics_only_for_allowed_networks_or_the_token(server: RunningServer, proxied: RunningServer) -> None:
    assert httpx.get(f"{server.url}/metrics").status_code == 200  # loopback is allowed by default
    assert "pdfqa_logins_total" in httpx.get(f"{server.url}/metrics/").text
    assert httpx.get(f"{proxied.url}/metrics").status_code == 403
    assert httpx.get(f"{proxied.url}/metrics/").status_code == 403
    assert httpx.get(f"{proxied.url}/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    ok = httpx.get(f"{proxied.url}/metrics", headers={"Authorization": "Bearer metrics-token-for-tests"})
    assert ok.status_code == 200 and "pdfqa_logins_total" in ok.text


# ---- audit log ----------------------------------------------------------------------------


def test_security_events_are_audited_without_secrets(server: RunningServer) -> None:
    import json as jsonlib

    assert _login(server, "not-bobs-password").status_code == 400
    bob = signed_in(server, *BOB)
    up = bob.post("/gradio_api/upload", files=[("files", ("audited.pdf", (DATA / "natbib.pdf").read_bytes()))])
    upload = fn_index(bob, "upload")
    assert run_event(bob, upload, [[{"path": up.json()[0], "meta": {"_type": "gradio.FileData"}}]]).success
    bob.get("/logout", follow_redirects=False)
    assert run_app(server.data_dir, "users", "disable", "dave").returncode in (0, 1)
    audit_file = server.data_dir / "logs" / "audit.log"
    deadline = time.monotonic() + 10
    events: list[dict[str, object]] = []
    while time.monotonic() < deadline:
        events = [jsonlib.loads(line) for line in audit_file.read_text().splitlines()]  # every line is JSON
        if any(e["event"] == "logout" and e["actor"] == "bob" for e in events):
            break
        time.sleep(0.3)

    def has(**fields: object) -> bool:
        return any(all(e.get(k) == v for k, v in fields.items()) for e in events)

    assert has(event="login", actor="bob", outcome="failed", client="127.0.0.1")
    assert has(event="login", actor="bob", outcome="ok")
    assert has(event="document.uploaded", actor="bob", name="audited.pdf")
    assert has(event="logout", actor="bob")
    assert has(event="user.created", actor="system", target="admin")
    assert all({"time", "event", "actor", "outcome"} <= set(e) for e in events)
    everything = audit_file.read_text() + server.log() + (server.data_dir / "logs" / "app.log").read_text()
    for secret in (BOB[1], "not-bobs-password", ADMIN[1]):
        assert secret not in everything
    assert '"event": "login"' not in (server.data_dir / "logs" / "app.log").read_text()  # a sink of its own


def test_an_idle_connection_stays_open_longer_than_uvicorns_five_seconds(server: RunningServer) -> None:
    """server.keep_alive_s (75 s): a client or load balancer that reuses a connection after a few
    idle seconds must not meet one the server is closing (uvicorn's default closes it at 5 s; the
    request then fails with 'connection reset', a 502 behind a balancer)."""
    import http.client
    import time
    from urllib.parse import urlsplit

    url = urlsplit(server.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        conn.request("GET", "/healthz")
        first = conn.getresponse()
        assert first.status == 200 and first.read()
        sock = conn.sock
        time.sleep(6.5)
        conn.request("GET", "/healthz")  # on the same socket: http.client reopens only a closed one
        second = conn.getresponse()
        assert second.status == 200 and second.read()
        assert conn.sock is sock
    finally:
        conn.close()
