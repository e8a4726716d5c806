"""`db upgrade|current`: the database schema. `serve` and every command upgrade it at start anyway
(one process at a time); this is for running the migration as its own deploy step."""

from __future__ import annotations

import argparse
from typing import Any

from app.config import Settings
from app.storage.db import Database


def register(sub: Any) -> None:
    p = sub.add_parser("db", help="database schema migrations")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    up = actions.add_parser("upgrade", help="migrate the database to the newest schema (or --revision)")
    up.add_argument("--revision", default="head", help="target revision (default: head)")
    actions.add_parser("current", help="print the schema revision the database is at")
    p.set_defaults(handler=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url)
    try:
        if args.action == "upgrade":
            before, after = db.migrate(args.revision)
            print(f"database at revision {after}" + (f" (was {before})" if before != after else " (no change)"))
        else:
            print(db.current_revision() or "none (empty database)")
    finally:
        db.close()
    return 0
