"""`tokens create|list|revoke`: personal access tokens for the REST API and the OpenAI-compatible
endpoint (docs/api.md). A new token is printed once, on stdout alone, and never shown again."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.audit import cli_actor
from app.auth.tokens import DEFAULT_EXPIRY, SCOPES, TokenService
from app.config import Settings
from app.container import Container


def register(sub: Any) -> None:
    p = sub.add_parser("tokens", help="personal access tokens for the API")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="make a token (printed once)")
    create.add_argument("--user", required=True, metavar="NAME")
    create.add_argument(
        "--scope",
        action="append",
        required=True,
        metavar="SCOPE",
        help=f"{', '.join(SCOPES)} (repeat or separate by commas); ask and write include read",
    )
    create.add_argument("--expires", default=DEFAULT_EXPIRY, help=f"e.g. 90d or 12h (default {DEFAULT_EXPIRY})")
    create.add_argument("--name", default="", help="a label to tell the token apart")
    listing = actions.add_parser("list", help="list tokens (never the tokens themselves)")
    listing.add_argument("--user", metavar="NAME", help="only this user's")
    revoke = actions.add_parser("revoke", help="revoke a token at once, on every instance")
    revoke.add_argument("token", metavar="ID-or-prefix")
    p.set_defaults(handler=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    with Container(settings) as container:
        tokens = TokenService(container.db)
        if args.action == "create":
            made = tokens.create(args.user, args.scope, args.expires, name=args.name, actor=cli_actor())
            print(made.token)
            info = made.info
            print(
                f"token {info.id} ({info.prefix}) for {info.user}, scopes {' '.join(info.scopes)}, "
                f"expires {info.expires_at:%Y-%m-%d %H:%M} UTC; it is shown only this once",
                file=sys.stderr,
            )
        elif args.action == "list":
            print("id\tprefix\tuser\tscopes\tstate\tcreated\texpires\tlast_used\tname")
            for t in tokens.list(args.user):
                state = "revoked" if t.revoked_at else "active" if t.active else "expired"
                used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "-"
                print(
                    f"{t.id}\t{t.prefix}\t{t.user}\t{','.join(t.scopes)}\t{state}\t{t.created_at:%Y-%m-%d}\t"
                    f"{t.expires_at:%Y-%m-%d}\t{used}\t{t.name or '-'}"
                )
        elif args.action == "revoke":
            info = tokens.revoke(args.token, cli_actor())
            print(f"token {info.id} ({info.prefix}) of {info.user} revoked")
    return 0
