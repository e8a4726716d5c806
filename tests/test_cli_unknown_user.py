"""Operator papercuts (issue 28): `quotas show|set` and `users set-password` on a name that has no
account are refused with the app's one-line "no such user: ..." and a non-zero exit (before, quotas
answered exit 0 and stored an override for nobody); nothing is stored for the typo. Real subprocesses."""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.cli import run_app


def test_quotas_and_set_password_refuse_an_unknown_user(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run_app(data, "users", "add", "carol", stdin="carols-long-password\n").returncode == 0

    for args in (("quotas", "show", "carl"), ("quotas", "set", "carl", "--questions-per-day", "5")):
        done = run_app(data, *args)
        assert done.returncode == 1, done.stdout + done.stderr
        assert done.stderr.strip() == "error: no such user: 'carl'" and done.stdout == ""
    # Refused before the password is read (empty stdin: a prompt would come first, and an empty password
    # would be the error shown).
    changed = run_app(data, "users", "set-password", "carl")
    assert changed.returncode == 1 and changed.stderr.strip() == "error: no such user: 'carl'"
    assert "Traceback" not in changed.stderr

    # The refused set stored nothing: once the account exists, its limits are the configuration's.
    assert run_app(data, "users", "add", "carl", stdin="carls-long-password\n").returncode == 0
    shown = run_app(data, "quotas", "show", "carl")
    assert shown.returncode == 0, shown.stderr
    limits = [line for line in shown.stdout.splitlines() if line.startswith("  ")]
    assert limits and all("(config)" in line for line in limits)
    # A known user still works as before.
    assert run_app(data, "quotas", "set", "carol", "--questions-per-day", "5").returncode == 0
