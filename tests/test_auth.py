"""Users, passwords, the login callback, throttling and the first-start rule."""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from app.auth.login import LoginService, bootstrap_admin
from app.auth.sessions import SessionStore
from app.auth.throttle import LoginThrottle
from app.auth.users import UserService
from app.config import AuthSettings
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
        self.now = datetime(2026, 1, 1, 12, 0, 0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


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


def _throttle(users: UserService, clock: FakeClock, **overrides: object) -> LoginThrottle:
    settings = AuthSettings(**{"max_failures": 5, "lockout_s": 60, "max_failures_per_address": 20, **overrides})
    return LoginThrottle(users._db, settings, clock=clock)


def test_throttle_locks_the_pair_not_the_user(users: UserService) -> None:
    clock = FakeClock()
    throttle = _throttle(users, clock)
    for _ in range(5):
        assert throttle.check("alice", "10.0.0.1").allowed
        throttle.failure("alice", "10.0.0.1")
    verdict = throttle.check("alice", "10.0.0.1")
    assert not verdict.allowed and 59 <= verdict.retry_after_s <= 60
    assert throttle.check("alice", "10.0.0.2").allowed  # alice from elsewhere
    assert throttle.check("mallory", "10.0.0.1").allowed  # others from the same address
    clock.advance(61)
    assert throttle.check("alice", "10.0.0.1").allowed
    throttle.failure("alice", "10.0.0.1")  # a sixth failure doubles the cool-down
    clock.advance(61)
    assert not throttle.check("alice", "10.0.0.1").allowed
    clock.advance(60)
    assert throttle.check("alice", "10.0.0.1").allowed
    throttle.success("alice", "10.0.0.1")
    throttle.failure("alice", "10.0.0.1")
    assert throttle.check("alice", "10.0.0.1").allowed  # a success cleared the count


def test_throttle_failures_decay_after_the_window(users: UserService) -> None:
    clock = FakeClock()
    throttle = _throttle(users, clock, failure_window_s=300)
    for _ in range(4):
        throttle.failure("alice", "10.0.0.1")
    clock.advance(301)
    throttle.failure("alice", "10.0.0.1")
    assert throttle.check("alice", "10.0.0.1").allowed  # the four old ones are forgotten


def test_throttle_per_address_and_global_slow_down(users: UserService) -> None:
    clock = FakeClock()
    throttle = _throttle(users, clock, max_failures_per_address=20, global_failures_per_minute=30)
    for i in range(20):  # spraying one password over many accounts
        throttle.failure(f"user{i}", "10.0.0.9")
    assert not throttle.check("someone", "10.0.0.9").allowed
    assert throttle.check("someone", "10.0.0.8").allowed
    for i in range(10):
        throttle.failure(f"user{i}", f"10.1.0.{i}")  # 30 failures within a minute in all
    verdict = throttle.check("someone", "10.0.0.8")
    assert verdict.allowed and verdict.delay_s > 0  # slowed down, not refused


def test_login_service_counts_only_checked_attempts(users: UserService) -> None:
    users.add("alice", "alice-long-password")
    clock = FakeClock()
    db = users._db
    sessions = SessionStore(db, idle_minutes=60, max_hours=24)
    service = LoginService(users, _throttle(users, clock), sessions, name_hash_key=b"test-installation-key")
    for _ in range(5):
        assert asyncio.run(service.login("alice", "guess", "192.0.2.7")).result == "failed"
    for _ in range(10):  # refused unchecked: not counted, the cool-down does not restart
        assert asyncio.run(service.login("alice", "alice-long-password", "192.0.2.7")).result == "throttled"
        clock.advance(5)
    clock.advance(11)  # 61 s after the fifth failure
    outcome = asyncio.run(service.login("alice", "alice-long-password", "192.0.2.7"))
    assert outcome.ok and sessions.resolve(outcome.token) == "alice"


def test_sessions_expire_and_end_with_their_user(users: UserService) -> None:
    users.add("alice", "alice-long-password")
    sessions = SessionStore(users._db, idle_minutes=30, max_hours=2)
    token = sessions.create("alice")
    assert sessions.resolve(token) == "alice"
    assert sessions.resolve("not-a-token") is None
    users.set_disabled("alice", True)
    assert sessions.resolve(token) is None
    users.set_disabled("alice", False)
    assert sessions.resolve(token) is None  # gone, not just paused
    token = sessions.create("alice")
    users.set_password("alice", "another-long-password")
    assert sessions.resolve(token) is None


def test_a_session_in_use_still_ends_after_its_maximum_age(users: UserService) -> None:
    """auth.session_max_hours counts from the login, however busy the session is."""
    users.add("alice", "alice-long-password")
    now = [datetime(2026, 3, 1, 9, 0)]
    sessions = SessionStore(users._db, idle_minutes=30, max_hours=2, clock=lambda: now[0])
    token = sessions.create("alice")
    for _ in range(5):  # used every 20 minutes: never idle
        now[0] += timedelta(minutes=20)
        assert sessions.resolve(token) == "alice"
    now[0] += timedelta(minutes=21)  # 2 h 1 min after the login
    assert sessions.resolve(token) is None
    assert sessions.resolve(sessions.create("alice")) == "alice"  # a new login starts a new session


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


def test_hf_oauth_needs_an_allow_list_and_applies_it(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from app.web.identity import current_user, hf_allowed

    with pytest.raises(ConfigError, match=r"allowed_users.*allow_any_hf_user"):
        make_settings(tmp_path, auth={"mode": "hf_oauth"})
    settings = make_settings(tmp_path, auth={"mode": "hf_oauth", "allowed_users": ["Alice"], "allowed_orgs": ["acme"]})
    a = settings.auth

    def allow(info: dict[str, object]) -> bool:
        return hf_allowed(info, a.allowed_users, a.allowed_orgs, a.allow_any_hf_user)

    def request(userinfo: dict[str, object]) -> object:
        return SimpleNamespace(session={"oauth_info": {"userinfo": userinfo}}, username=None)

    assert current_user(request({"preferred_username": "alice"}), "hf_oauth", allow) == "hf:alice"  # type: ignore[arg-type]
    member = {"preferred_username": "carol", "orgs": [{"preferred_username": "acme"}]}
    assert current_user(request(member), "hf_oauth", allow) == "hf:carol"  # type: ignore[arg-type]
    with pytest.raises(AuthError, match="not allowed"):
        current_user(request({"preferred_username": "mallory"}), "hf_oauth", allow)  # type: ignore[arg-type]
    anyone = make_settings(tmp_path, auth={"mode": "hf_oauth", "allow_any_hf_user": True}).auth
    assert hf_allowed({"preferred_username": "mallory"}, anyone.allowed_users, anyone.allowed_orgs, True)


def test_users_cli_grants_and_revokes_admin(tmp_path: Path) -> None:
    assert run_app(tmp_path, "users", "add", "alice", stdin="alice-long-password\n").returncode == 0
    assert run_app(tmp_path, "users", "make-admin", "alice").returncode == 0
    assert "alice\tadmin" in run_app(tmp_path, "users", "list").stdout
    assert run_app(tmp_path, "users", "revoke-admin", "alice").returncode == 0
    assert "alice\t-" in run_app(tmp_path, "users", "list").stdout
    missing = run_app(tmp_path, "users", "make-admin", "nobody")
    assert missing.returncode == 1 and "no such user: 'nobody'" in missing.stderr
