"""Users, passwords, the login callback, throttling and the first-start rule."""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import time
from pathlib import Path

import pytest

from app.auth.login import bootstrap_admin, client_address, make_login
from app.auth.throttle import LoginThrottle
from app.auth.users import UserService
from app.errors import AuthError, ConfigError
from app.storage.db import Database
from tests.conftest import make_settings
from tests.fixtures.cli import run_app as run_cli


@pytest.fixture
def users(tmp_path: Path) -> UserService:
    db = Database(f"sqlite:///{tmp_path / 'app.db'}")
    db.create_all()
    return UserService(db)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_passwords_are_argon2_hashed(users: UserService, tmp_path: Path) -> None:
    users.add("alice", "alice-long-password")
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("app.db*"))  # the database and its WAL
    assert b"alice-long-password" not in raw and b"$argon2id$" in raw
    assert users.authenticate("alice", "alice-long-password")
    assert not users.authenticate("alice", "wrong-password")
    with pytest.raises(AuthError):
        users.add("bob", "short")


def test_disabled_and_removed_users_cannot_log_in(users: UserService) -> None:
    users.add("alice", "alice-long-password")
    users.set_disabled("alice", True)
    assert not users.authenticate("alice", "alice-long-password")
    users.set_disabled("alice", False)
    users.set_password("alice", "a-new-long-password")
    assert users.authenticate("alice", "a-new-long-password")
    users.remove("alice")
    assert not users.authenticate("alice", "a-new-long-password")


def test_throttle_cools_down_and_hard_locks() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(max_failures=5, lockout_s=60, hard_lock_failures=20, clock=clock)
    for _ in range(5):
        assert not throttle.blocked("alice", "10.0.0.1")
        throttle.failure("alice", "10.0.0.1")
    assert throttle.blocked("alice", "10.0.0.1")
    assert throttle.blocked("alice", "10.0.0.2")  # per user...
    assert throttle.blocked("mallory", "10.0.0.1")  # ...and per address
    assert not throttle.blocked("carol", "10.0.0.3")
    clock.now += 61
    assert not throttle.blocked("alice", "10.0.0.9")
    throttle.success("alice", "10.0.0.9")
    assert not throttle.blocked("alice", "10.0.0.9")


def test_login_callback_refuses_even_the_right_password_after_20_failures(users: UserService) -> None:
    users.add("alice", "alice-long-password")
    clock = FakeClock()
    login = make_login(users, LoginThrottle(5, 60, 20, clock=clock))
    token = client_address.set("192.0.2.7")
    try:
        for _ in range(20):
            assert not asyncio.run(login("alice", "guess"))
        assert not asyncio.run(login("alice", "alice-long-password"))  # locked out
        clock.now += 60 * 2 + 1  # a hard lock lasts twice the cool-down
        assert asyncio.run(login("alice", "alice-long-password"))
    finally:
        client_address.reset(token)


def test_unknown_users_take_as_long_as_wrong_passwords(users: UserService) -> None:
    users.add("alice", "alice-long-password")

    def timed(name: str) -> float:
        started = time.perf_counter()
        assert not users.authenticate(name, "wrong-password")
        return time.perf_counter() - started

    timed("alice"), timed("nobody")  # warm up
    known = statistics.median(timed("alice") for _ in range(7))
    unknown = statistics.median(timed(f"nobody{i}") for i in range(7))
    assert 0.5 < unknown / known < 2.0, (known, unknown)


def test_first_start_needs_admin_from_environment(users: UserService, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="APP_ADMIN_USERNAME"):
        bootstrap_admin(users, make_settings(tmp_path))
    bootstrap_admin(users, make_settings(tmp_path, admin_username="root", admin_password="root-long-password"))
    assert [(u.username, u.is_admin) for u in users.list()] == [("root", True)]


def run_app(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return run_cli(tmp_path / "data", *args, stdin=stdin)


def test_serve_refuses_to_start_without_any_user(tmp_path: Path) -> None:
    result = run_app(tmp_path, "serve", "--port", "1")
    assert result.returncode != 0
    assert "APP_ADMIN_USERNAME" in result.stderr and "Traceback" not in result.stderr


def test_users_cli_reads_passwords_from_stdin(tmp_path: Path) -> None:
    assert run_app(tmp_path, "users", "add", "alice", "--admin", stdin="alice-long-password\n").returncode == 0
    assert run_app(tmp_path, "users", "add", "bob", stdin="bob-long-password\n").returncode == 0
    listed = run_app(tmp_path, "users", "list").stdout
    assert "alice\tadmin" in listed and "bob\t-" in listed
    assert run_app(tmp_path, "users", "disable", "bob").returncode == 0
    assert "disabled" in run_app(tmp_path, "users", "list").stdout
    duplicate = run_app(tmp_path, "users", "add", "alice", stdin="whatever-password\n")
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr
    assert run_app(tmp_path, "users", "remove", "bob").returncode == 0
    assert "bob" not in run_app(tmp_path, "users", "list").stdout
    # There is no way to pass a password on the command line.
    assert run_app(tmp_path, "users", "add", "carol", "--password", "x").returncode == 2


def test_identity_comes_from_the_session_not_the_browser() -> None:
    from types import SimpleNamespace

    from app.web.identity import current_user

    assert current_user(SimpleNamespace(username="alice"), "password") == "alice"  # type: ignore[arg-type]
    with pytest.raises(AuthError):
        current_user(SimpleNamespace(username=None), "password")  # type: ignore[arg-type]
    oauth = SimpleNamespace(session={"oauth_info": {"userinfo": {"preferred_username": "hf-user"}}}, username=None)
    assert current_user(oauth, "hf_oauth") == "hf:hf-user"  # type: ignore[arg-type]
    with pytest.raises(AuthError):
        current_user(SimpleNamespace(session={}, username="alice"), "hf_oauth")  # type: ignore[arg-type]
