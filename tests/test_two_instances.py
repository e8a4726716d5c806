"""Two real app processes on different ports sharing one PostgreSQL database: a session opened on
one is valid on the other, failed logins spread over both lock the account on both, and disabling
a user ends their sessions everywhere. (Each keeps its own embedded vector store: the embedded
store cannot be shared between processes and no Qdrant server runs here; see README.)"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.fixtures.cli import run_app
from tests.fixtures.gradio_http import signed_in
from tests.fixtures.postgres import fresh_database
from tests.fixtures.server import ADMIN, RunningServer, running_server

BOB = ("bob", "bobs-long-password")


Pair = tuple[RunningServer, RunningServer, dict[str, str]]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    with fresh_database() as url:
        env = {"APP_DATABASE__URL": url}
        root = tmp_path_factory.mktemp("pair")
        with running_server(root / "a", env=env) as a, running_server(root / "b", env=env) as b:
            assert run_app(a.data_dir, "users", "add", BOB[0], stdin=BOB[1] + "\n", env=env).returncode == 0
            yield a, b, env


def _usable(server: RunningServer, token: str) -> bool:
    client = httpx.Client(base_url=server.url, cookies={"access-token-pdfqa": token})
    r = client.post("/gradio_api/queue/join", json={"fn_index": 0, "data": [], "session_hash": "probe1"})
    return r.status_code != 401


def test_a_session_from_one_instance_works_on_the_other(pair: Pair) -> None:
    a, b, _env = pair
    token = signed_in(a, *ADMIN).cookies["access-token-pdfqa"]
    assert _usable(a, token) and _usable(b, token)  # failover keeps the sign-in
    httpx.get(f"{b.url}/logout", cookies={"access-token-pdfqa": token}, follow_redirects=False)
    assert not _usable(a, token)  # logged out on B, gone on A


def test_failed_logins_over_both_instances_lock_the_account_on_both(pair: Pair) -> None:
    a, b, _env = pair
    for i in range(5):
        server = (a, b)[i % 2]
        r = httpx.post(f"{server.url}/login", data={"username": BOB[0], "password": f"wrong-{i}"})
        assert r.status_code == 400 and "Incorrect" in r.text
    for server in (a, b):
        refused = httpx.post(f"{server.url}/login", data={"username": BOB[0], "password": BOB[1]})
        assert "Too many" in refused.text, server.url


def test_disabling_a_user_ends_their_sessions_on_every_instance(pair: Pair) -> None:
    a, b, env = pair
    run_app(a.data_dir, "users", "add", "carol", stdin="carols-long-password\n", env=env)
    token = signed_in(b, "carol", "carols-long-password").cookies["access-token-pdfqa"]
    assert _usable(a, token)
    assert run_app(b.data_dir, "users", "disable", "carol", env=env).returncode == 0
    assert not _usable(a, token) and not _usable(b, token)
