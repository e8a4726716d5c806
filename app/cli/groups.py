"""`groups add|list|remove|members|add-member|remove-member`: teams of users and their roles
(reader asks, editor uploads and deletes, owner manages members). Audited like every account change."""

from __future__ import annotations

import argparse
from typing import Any

from app.audit import cli_actor
from app.auth.groups import ROLES, GroupService
from app.config import Settings
from app.container import Container


def register(sub: Any) -> None:
    p = sub.add_parser("groups", help="manage groups (teams) and their members")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("add", help="make a group").add_argument("name")
    actions.add_parser("list", help="list groups with their member counts")
    actions.add_parser("remove", help="remove a group (its memberships go with it)").add_argument("name")
    actions.add_parser("members", help="list a group's members and roles").add_argument("name")
    add = actions.add_parser("add-member", help="add a member, or change a member's role")
    add.add_argument("name")
    add.add_argument("user")
    add.add_argument("--role", choices=ROLES, default="reader")
    remove = actions.add_parser("remove-member", help="take a member out of a group")
    remove.add_argument("name")
    remove.add_argument("user")
    p.set_defaults(handler=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    with Container(settings) as container:
        groups = GroupService(container.db)
        actor = cli_actor()
        if args.action == "add":
            print(f"group {groups.add(args.name, actor).name} added")
        elif args.action == "list":
            print("group\tmembers")
            for g in groups.list():
                print(f"{g.name}\t{g.members}")
        elif args.action == "remove":
            members = groups.remove(args.name, actor)
            print(f"group {args.name} removed with its {members} membership{'s' if members != 1 else ''}")
        elif args.action == "members":
            print("user\trole\tsource")
            for m in groups.members(args.name):
                print(f"{m.username}\t{m.role}\t{m.source}")
        elif args.action == "add-member":
            m = groups.add_member(args.name, args.user, args.role, actor)
            print(f"{m.username} is {m.role} of {m.group}")
        elif args.action == "remove-member":
            groups.remove_member(args.name, args.user, actor)
            print(f"{args.user} removed from {args.name}")
    return 0
