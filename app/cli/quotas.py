"""`quotas set USER --questions-per-day N ...` and `quotas show USER`: per-user limits that override
the `quotas:` section of the configuration; with `--library`, USER names a group and the limits are
its team library's (documents and storage are charged to the library)."""

from __future__ import annotations

import argparse
from typing import Any

from app.audit import audit, cli_actor
from app.cli.documents import require_user
from app.config import Settings
from app.container import Container
from app.errors import ConfigError
from app.usage.quotas import LIMIT_KEYS, parse_limit, shown_limit


def register(sub: Any) -> None:
    p = sub.add_parser("quotas", help="show or change a user's quotas")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    show = actions.add_parser("show", help="a user's limits and what is used of them")
    show.add_argument("name")
    show.add_argument("--library", action="store_true", help="NAME is a group: its team library's limits")
    change = actions.add_parser(
        "set", help="override limits for a user: a number, 'unlimited', or 'default' (the config value)"
    )
    change.add_argument("name")
    change.add_argument(
        "--library", action="store_true", help="NAME is a group: limits of its team library (documents, storage)"
    )
    for key in LIMIT_KEYS:
        change.add_argument(f"--{key.replace('_', '-')}", dest=key, metavar="N")
    p.set_defaults(handler=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    with Container(settings) as container:
        title = args.name
        if args.library:  # a library's storage is charged to the library, within its own limits
            args.name, title = container.libraries.tenant_of_library(args.name), f"library {args.name}"
        else:
            require_user(container, settings, args.name)  # a typo must not store limits for nobody
        quotas = container.quotas
        if args.action == "set":
            changes = {k: parse_limit(k, getattr(args, k)) for k in LIMIT_KEYS if getattr(args, k) is not None}
            if not changes:
                raise ConfigError("nothing to change: give at least one limit, e.g. --questions-per-day 50")
            quotas.set_limits(args.name, **changes)
            shown = ", ".join(f"{k}={shown_limit(v)}" for k, v in changes.items())
            audit("quota.changed", cli_actor(), target=args.name, limits=shown)
        overrides = quotas.overrides(args.name)
        limits = quotas.limits(args.name)
        used = {s.key: s for s in quotas.status(args.name)}
        kept = container.usage_report.kept(args.name)
        print(f"quotas of {title} (days reset at midnight {quotas.timezone})")
        for key in LIMIT_KEYS:
            limit = limits[key]
            shown = "unlimited" if limit is None else f"{limit:g}"
            source = "user" if key in overrides else "config"
            line = f"  {key:<18} {shown:>12}  ({source})"
            if key in used:
                status = used[key]
                line += f"  used {status.used:g}"
                if status.resets_at is not None:
                    line += f", resets {status.resets_at:%Y-%m-%d %H:%M} UTC"
            elif key in kept:  # documents and storage: what is kept now (these never reset)
                line += f"  used {kept[key]:g}"
            print(line)
    return 0
