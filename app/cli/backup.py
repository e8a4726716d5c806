"""`backup DEST` and `restore SRC [--force]`: the database, original files and vectors, to or from
a folder or an object-store URL (s3://bucket/prefix with the same credentials as files.url)."""

from __future__ import annotations

import argparse
from typing import Any

from app.audit import audit, cli_actor
from app.config import Settings
from app.container import Container


def register(sub: Any) -> None:
    b = sub.add_parser("backup", help="back up the database, original files and vectors to a folder or URL")
    b.add_argument("dest", help="an empty folder, or e.g. s3://bucket/backups/2026-11-26")
    b.set_defaults(handler=run_backup)
    r = sub.add_parser("restore", help="restore a backup into this (empty) workspace")
    r.add_argument("src", help="the backup's folder or URL")
    r.add_argument("--force", action="store_true", help="replace what this workspace holds")
    r.set_defaults(handler=run_restore)


def run_backup(settings: Settings, args: argparse.Namespace) -> int:
    with Container(settings) as container:
        try:
            manifest = container.backups.backup(args.dest)
        except Exception:
            audit("backup", cli_actor(), outcome="failed", target=args.dest)
            raise
    counts = manifest["counts"]
    audit("backup", cli_actor(), target=args.dest, documents=counts["tables"].get("documents", 0))
    print(
        f"backup written to {args.dest}: {counts['tables'].get('users', 0)} users, "
        f"{counts['tables'].get('documents', 0)} documents, {counts['files']} files, {counts['vectors']} vectors"
    )
    return 0


def run_restore(settings: Settings, args: argparse.Namespace) -> int:
    from fsspec.utils import get_protocol

    from app.admin.backup import at_backup_precision
    from app.storage.files import store_options

    settings = at_backup_precision(settings, args.src, store_options(settings, get_protocol(args.src)))
    with Container(settings) as container:
        try:
            manifest = container.backups.restore(args.src, force=args.force)
        except Exception:
            audit("restore", cli_actor(), outcome="failed", target=args.src)
            raise
    counts = manifest["counts"]
    audit("restore", cli_actor(), target=args.src, documents=counts["tables"].get("documents", 0), force=args.force)
    print(
        f"restored {args.src} (made {manifest['created_at']} by version {manifest['app_version']}): "
        f"{counts['tables'].get('users', 0)} users, {counts['tables'].get('documents', 0)} documents, "
        f"{counts['vectors']} vectors"
    )
    return 0
