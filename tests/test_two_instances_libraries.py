"""A team library across two real app processes sharing PostgreSQL and an S3-compatible store
(issue 31): a member reads a library document's page on either instance; taken out of the group
(by the CLI, a third process), they are refused at their next request on both, and let back in,
served again, without any instance being restarted or told."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import DATA
from tests.fixtures.cli import run_app
from tests.fixtures.postgres import fresh_database
from tests.fixtures.s3_server import ACCESS_KEY, REGION, SECRET_KEY, s3_server
from tests.fixtures.server import RunningServer, running_server


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, RunningServer, dict[str, str]]]:
    root = tmp_path_factory.mktemp("library-pair")
    with fresh_database() as url, s3_server() as s3:
        bucket = s3.new_bucket()
        env = {
            "APP_DATABASE__URL": url,
            "APP_FILES__URL": f"s3://{bucket}/pdfqa",
            "APP_FILES__ENDPOINT_URL": s3.endpoint,
            "APP_FILES__REGION": REGION,
            "APP_FILES__ACCESS_KEY": ACCESS_KEY,
            "APP_FILES__SECRET_KEY": SECRET_KEY,
        }
        with running_server(root / "a", env=env) as a, running_server(root / "b", env=env) as b:
            yield a, b, env


def _cli(root: Path, env: dict[str, str], *args: str, stdin: str = "") -> str:
    done = run_app(root, *args, env=env, stdin=stdin)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_leaving_the_group_is_felt_at_the_next_request_on_both_instances(
    pair: tuple[RunningServer, RunningServer, dict[str, str]], tmp_path: Path
) -> None:
    a, b, env = pair
    cli = tmp_path / "cli"
    _cli(cli, env, "users", "add", "bob", stdin="bobs-long-password\n")
    _cli(cli, env, "users", "add", "mallory", stdin="mallorys-long-password\n")
    _cli(cli, env, "groups", "add", "Eng")
    _cli(cli, env, "groups", "add-member", "Eng", "bob")
    _cli(cli, env, "ingest", str(DATA / "natbib.pdf"), "--library", "Eng")
    doc_id = _cli(cli, env, "documents", "list", "--library", "Eng").split("\t")[0]
    bob = {"Authorization": f"Bearer {_token(cli, env, 'bob')}"}
    mallory = {"Authorization": f"Bearer {_token(cli, env, 'mallory')}"}

    def status(server: RunningServer, headers: dict[str, str]) -> int:
        return httpx.get(f"{server.url}/api/v1/documents/{doc_id}/pages/1", headers=headers, timeout=60).status_code

    assert [status(a, bob), status(b, bob)] == [200, 200]
    assert [status(a, mallory), status(b, mallory)] == [404, 404]
    listed = httpx.get(f"{b.url}/api/v1/documents", params={"library": "Eng"}, headers=bob, timeout=60).json()
    assert [d["name"] for d in listed["documents"]] == ["natbib.pdf"]

    _cli(cli, env, "groups", "remove-member", "Eng", "bob")
    assert [status(a, bob), status(b, bob)] == [404, 404]
    assert httpx.get(f"{a.url}/api/v1/documents", params={"library": "Eng"}, headers=bob).status_code == 404

    _cli(cli, env, "groups", "add-member", "Eng", "bob")
    assert [status(a, bob), status(b, bob)] == [200, 200]


def _token(root: Path, env: dict[str, str], user: str) -> str:
    token = _cli(root, env, "tokens", "create", "--user", user, "--scope", "read", "--expires", "1d").strip()
    assert token.startswith("pdfqa_")
    return token
