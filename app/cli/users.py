"""`users add|list|set-password|disable|enable|remove|export`: passwords from a prompt or stdin, never
argv. `remove --dry-run` says what a removal would delete and changes nothing; `export NAME DEST`
writes everything the user owns to one zip (app/admin/data_export.py)."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.audit import audit, cli_actor
from app.config import Settings
from app.container import Container

if TYPE_CHECKING:
    from app.admin.accounts import RemovalPlan


def register(sub: Any) -> None:
    p = sub.add_parser("users", help="manage user accounts")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="create a user (password from prompt or stdin)")
    add.add_argument("name")
    add.add_argument("--admin", action="store_true")
    actions.add_parser("list", help="list users")
    for action, text in (
        ("set-password", "change a password"),
        ("disable", "block a user from logging in"),
        ("enable", "allow a disabled user again"),
        ("make-admin", "give a user administrator rights"),
        ("revoke-admin", "take administrator rights away"),
    ):
        a = actions.add_parser(action, help=text)
        a.add_argument("name")
    remove = actions.add_parser(
        "remove", help="delete a user account with their documents, vectors, files, conversations and usage"
    )
    remove.add_argument("name")
    remove.add_argument("--transfer-to", metavar="USER", help="give their documents and conversations to USER instead")
    remove.add_argument("--dry-run", action="store_true", help="say what would be removed; change nothing")
    export = actions.add_parser(
        "export", help="write everything a user owns (documents, originals, conversations, feedback, usage) to a zip"
    )
    export.add_argument("name")
    export.add_argument("dest", metavar="DEST", help="the archive's file name, or a folder to write it in")
    p.set_defaults(handler=run)


def read_password(confirm: bool = True) -> str:
    """From an interactive prompt (asked twice), or the first line of stdin when piped."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if confirm and getpass.getpass("Repeat password: ") != first:
        raise SystemExit("error: the passwords differ")
    return first


def run(settings: Settings, args: argparse.Namespace) -> int:
    with Container(settings) as container:
        users = container.users
        if args.action == "add":
            info = users.add(args.name, read_password(), is_admin=args.admin)
            audit("user.created", cli_actor(), target=info.username, admin=info.is_admin)
            print(f"user {info.username} created{' (admin)' if info.is_admin else ''}")
        elif args.action == "list":
            for u in users.list():
                flags = ",".join(f for f, on in (("admin", u.is_admin), ("disabled", u.disabled)) if on)
                print(f"{u.username}\t{flags or '-'}\t{u.created_at:%Y-%m-%d}")
        elif args.action == "set-password":
            users.get(args.name)  # an unknown name is refused before the password prompt
            users.set_password(args.name, read_password())
            audit("user.changed", cli_actor(), target=args.name, change="password")
            print(f"password of {args.name} changed")
        elif args.action in ("disable", "enable"):
            users.set_disabled(args.name, args.action == "disable")
            audit("user.changed", cli_actor(), target=args.name, change=args.action + "d")
            print(f"user {args.name} {args.action}d")
        elif args.action in ("make-admin", "revoke-admin"):
            users.set_admin(args.name, args.action == "make-admin")
            audit("user.changed", cli_actor(), target=args.name, change=args.action)
            print(f"user {args.name} {'is now' if args.action == 'make-admin' else 'is no longer'} an administrator")
        elif args.action == "remove" and args.dry_run:
            print(plan_text(container.accounts.plan(args.name, transfer_to=args.transfer_to)))
        elif args.action == "export":
            target = export_target(Path(args.dest), args.name)
            summary = container.data_export.write(args.name, target)
            audit("user.exported", cli_actor(), target=args.name, documents=summary.documents)
            missing = f"; {len(summary.missing_originals)} originals missing" if summary.missing_originals else ""
            print(
                f"{target}: {summary.documents} documents ({summary.originals} originals, {summary.original_bytes} "
                f"bytes), {summary.conversations} conversations, {summary.messages} messages, "
                f"{summary.feedback} feedback{missing}"
            )
        elif args.action == "remove":
            done = container.accounts.remove(args.name, transfer_to=args.transfer_to)
            audit(
                "user.removed",
                cli_actor(),
                target=args.name,
                documents_deleted=done.documents_deleted,
                transferred_to=args.transfer_to,
                documents_transferred=done.documents_transferred,
                documents_merged=done.documents_merged,
            )
            moved = ""
            if args.transfer_to:  # what moved, counted as it happened (a merged document did not move)
                moved = (
                    f"; {done.documents_transferred} documents and {done.conversations_transferred} conversations "
                    f"now belong to {args.transfer_to}"
                )
                if done.documents_merged:
                    names = ", ".join(sorted(set(done.merged_into)))
                    moved += (
                        f"; {done.documents_merged} documents not copied: {args.transfer_to} already has the same "
                        f"content ({names})"
                    )
            print(f"user {args.name} removed with {done.documents_deleted} documents and all their data{moved}")
    return 0


def export_target(dest: Path, username: str) -> Path:
    """DEST itself, or a new file in DEST when it is a folder; its folder must exist."""
    from app.admin.data_export import default_file_name

    if dest.is_dir():
        return dest / default_file_name(username)
    if not dest.parent.is_dir():
        raise SystemExit(f"error: no such folder: {str(dest.parent)!r}")
    return dest


def plan_text(plan: RemovalPlan) -> str:
    """What `users remove` would do, one count per line (--dry-run)."""
    fate = f"handed to {plan.transfer_to}" if plan.transfer_to else "deleted"
    return "\n".join(
        [
            f"dry run: removing {plan.user} would delete (nothing has been changed):",
            f"  documents:          {plan.documents} ({plan.document_bytes} bytes) {fate}",
            f"  conversations:      {plan.conversations} ({plan.messages} messages) {fate}",
            f"  feedback:           {plan.feedback}",
            f"  access tokens:      {plan.tokens}",
            f"  group memberships:  {plan.memberships}",
            "  and the account, its sessions, usage and limits",
        ]
    )
