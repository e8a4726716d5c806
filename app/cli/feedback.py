"""`feedback list [--down] [--user NAME] [--limit N] [--json]`: what people thought of their answers,
newest first; the thumbs-down list names the questions the documents fail."""

from __future__ import annotations

import argparse
import json
from typing import Any

from app.config import Settings
from app.container import Container


def register(sub: Any) -> None:
    p = sub.add_parser("feedback", help="list the feedback people gave on answers")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="newest first: date, user, rating, question, comment, sources, model")
    rating = listing.add_mutually_exclusive_group()
    rating.add_argument("--down", action="store_true", help="only answers rated not helpful")
    rating.add_argument("--up", action="store_true", help="only answers rated helpful")
    listing.add_argument("--user", help="only this user's feedback")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(handler=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    with Container(settings) as container:
        rating = -1 if args.down else 1 if args.up else None
        rows = container.feedback.entries(rating=rating, limit=args.limit, owner=args.user)
        for f in rows:
            if args.json:
                print(json.dumps(f.model_dump(mode="json"), ensure_ascii=False))
                continue
            sources = ", ".join(f"{s.get('file')} p.{s.get('page')}" for s in f.sources) or "-"
            print(
                f"{f.created_at:%Y-%m-%d %H:%M}\t{f.owner}\t{'up' if f.rating > 0 else 'down'}\t"
                f"{_one_line(f.question)}\t{_one_line(f.comment) or '-'}\t{sources}\t{f.model}"
            )
        if not rows and not args.json:
            print("no feedback yet")
    return 0


def _one_line(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
