"""Groups (issue 31): `groups add|list|remove|members|add-member|remove-member` through the real
CLI, and the sync that keeps provider-made memberships in step with a sign-in's groups claim."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.auth.groups import GroupService
from app.container import Container
from app.errors import NotFound
from tests.fixtures.cli import run_app

PASSWORD = "long-enough-password\n"


def test_groups_through_the_cli(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for name in ("alice", "bob"):
        assert run_app(data, "users", "add", name, stdin=PASSWORD * 2).returncode == 0
    assert run_app(data, "groups", "add", "Sales").stdout.strip() == "group Sales added"
    twin = run_app(data, "groups", "add", "ｓａｌｅｓ")
    assert twin.returncode != 0 and "exists already" in twin.stderr and "Traceback" not in twin.stderr
    hostile = run_app(data, "groups", "add", "a\u202eb<script>")
    assert hostile.returncode != 0 and "a group name is" in hostile.stderr

    assert run_app(data, "groups", "add-member", "sales", "alice", "--role", "editor").returncode == 0
    assert run_app(data, "groups", "add-member", "SALES", "BOB").stdout.strip() == "bob is reader of Sales"
    unknown = run_app(data, "groups", "add-member", "Sales", "mallory")
    assert unknown.returncode != 0 and "no such user" in unknown.stderr
    nowhere = run_app(data, "groups", "members", "Marketing")
    assert nowhere.returncode != 0 and "no such group" in nowhere.stderr

    members = run_app(data, "groups", "members", "Sales").stdout.splitlines()
    assert members == ["user\trole\tsource", "alice\teditor\tmanual", "bob\treader\tmanual"]
    assert run_app(data, "groups", "list").stdout.splitlines() == ["group\tmembers", "Sales\t2"]

    assert run_app(data, "groups", "remove-member", "Sales", "bob").returncode == 0
    assert run_app(data, "users", "remove", "alice").returncode == 0  # her memberships go with her
    assert run_app(data, "groups", "list").stdout.splitlines() == ["group\tmembers", "Sales\t0"]
    removed = run_app(data, "groups", "remove", "Sales")
    assert removed.stdout.strip() == "group Sales removed with its 0 memberships"
    audit = (data / "logs" / "audit.log").read_text()
    for event in ('"group.created"', '"group.member_added"', '"group.member_removed"', '"group.removed"'):
        assert event in audit, event


def test_sync_follows_the_provider_but_never_makes_groups_or_drops_an_admins_choice(container: Container) -> None:
    container.users.add("carol", "long-enough-password")
    groups = GroupService(container.db)
    for name in ("Sales", "Support", "Legal"):
        groups.add(name)
    groups.add_member("Legal", "carol", "owner")  # an admin's choice

    joined, left = groups.sync("carol", ["sales", "SUPPORT", "Ghosts"])
    assert (joined, left) == (["Sales", "Support"], [])
    assert [g.name for g in groups.list()] == ["Legal", "Sales", "Support"]  # no "Ghosts"
    roles = {m.group: (m.role, m.source) for m in groups.groups_of("carol")}
    assert roles == {"Legal": ("owner", "manual"), "Sales": ("reader", "sso"), "Support": ("reader", "sso")}

    joined, left = groups.sync("carol", ["Support"])  # the provider dropped Sales (and never had Legal)
    assert (joined, left) == ([], ["Sales"])
    assert {m.group for m in groups.groups_of("carol")} == {"Legal", "Support"}
    assert groups.sync("carol", ["Support"]) == ([], [])

    with pytest.raises(NotFound):
        groups.sync("nobody", ["Sales"])
