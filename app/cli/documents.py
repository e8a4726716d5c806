"""`documents list|delete --user NAME` (or `--library GROUP`): a user's or a team library's
documents from the shell, with their ids."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from app.audit import audit, cli_actor
from app.config import Settings
from app.container import Container


def register(sub: Any) -> None:
    p = sub.add_parser("documents", help="list or delete a user's documents")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="a user's documents (id, status, pages, chunks, size, date, name)")
    add_workspace(listing)
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.add_argument(
        "--limit", type=int, metavar="N", help="only the N newest (the total is said on stderr); default: all"
    )
    remove = actions.add_parser("delete", help="delete documents by id (vectors, stored original, row)")
    remove.add_argument("ids", nargs="+", metavar="ID")
    add_workspace(remove)
    p.set_defaults(handler=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    with Container(settings) as container:
        args.user = workspace(container, settings, args)
        if args.action == "list":
            if args.limit is not None:
                page = container.registry.page(args.user, max(0, args.limit))
                docs = page.documents
                print(f"showing the {len(docs)} newest of {page.total} documents", file=sys.stderr)
            else:
                docs = container.registry.list(args.user)
            for d in docs:
                if args.json:
                    print(json.dumps(d.model_dump(mode="json"), ensure_ascii=False))
                else:
                    print(
                        f"{d.id}\t{d.status}\t{d.pages}\t{d.chunks}\t{d.size_bytes}\t"
                        f"{d.created_at:%Y-%m-%d %H:%M}\t{d.name}"
                    )
        else:
            for doc_id in args.ids:
                name = container.registry.get(args.user, doc_id).name
                container.ingestion.delete(args.user, doc_id)
                audit("document.deleted", cli_actor(), target=f"{args.user}/{doc_id}", name=name)
                print(f"deleted {doc_id} {name}")
    return 0


def add_workspace(p: argparse.ArgumentParser, help: str = "workspace owner") -> None:
    """--user NAME, or --library GROUP for a group's team library (the operator acts on it)."""
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", help=help)
    who.add_argument("--library", metavar="GROUP", help="a team library, by its group's name")


def workspace(container: Container, settings: Settings, args: argparse.Namespace) -> str:
    """The owner the command acts on: the user (who must exist) or the library's tenant."""
    if getattr(args, "library", None):
        return container.libraries.tenant_of_library(args.library)
    require_user(container, settings, args.user)
    return str(args.user)


def require_user(container: Container, settings: Settings, user: str) -> None:
    """A workspace belongs to an account: refuse a name nobody can sign in as (a typo, a removed user).
    Hugging Face accounts (`hf:<name>`) exist only in the hf_oauth mode and have no row here."""
    if settings.auth.mode == "hf_oauth" and user.startswith("hf:"):
        return
    container.users.get(user)
