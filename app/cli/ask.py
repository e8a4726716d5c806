"""`ask "question" --user NAME [--json]`: a streamed answer with its citations, through the same
question service as the web app (quotas, cache, accounting, conversation history).

Exit code 4 when a quota refuses the question (the message on stderr; with --json also an
{"error": {...}} object on stdout)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from app.config import Settings
from app.container import Container
from app.errors import QuotaExceeded

QUOTA_EXIT = 4

if TYPE_CHECKING:
    from app.answering.service import Answer


def register(sub: Any) -> None:
    p = sub.add_parser("ask", help="ask a question about a user's documents")
    p.add_argument("question")
    p.add_argument("--user", required=True, help="workspace owner")
    p.add_argument("--doc", action="append", dest="docs", metavar="ID", help="only this document (repeatable)")
    p.add_argument(
        "--library",
        action="append",
        dest="libraries",
        metavar="GROUP",
        help="only this team library of the user's (repeatable; default: their own documents and all their libraries)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of streaming")
    p.set_defaults(handler=run)


def to_json(answer: Answer) -> dict[str, Any]:
    return {
        "answer": answer.answer,
        "citations": [
            {
                "number": c.number,  # the [n] the answer and its claims cite
                "file": c.file,
                "page": c.page,
                "score": c.score,
                "text": c.text,
                "page_label": c.page_label,
                "section": c.section,
                "ocr": c.ocr,  # the page's text was recognised from its image (README: "Scanned PDFs")
                "library": c.library,  # the team library the document is in ("": the user's own)
            }
            for c in answer.citations
        ],
        "usage": answer.usage,
        "mode": answer.mode,
        "cached": answer.cached,
        # each sentence checked against the passages it cites; [] when the answer was not checked
        "claims": [
            {"text": c.text, "citations": c.citations, "support": c.support, "reason": c.reason}
            for c in answer.claims or []
        ],
    }


def quota_json(e: QuotaExceeded) -> dict[str, Any]:
    return {
        "error": {
            "code": "quota_exceeded",
            "limit": e.limit,
            "value": e.value,
            "resets_at": e.resets_at.isoformat() if e.resets_at else None,
            "message": str(e),
        }
    }


def run(settings: Settings, args: argparse.Namespace) -> int:
    with Container(settings) as container:
        try:
            final: Answer | None = None
            picked = list(args.docs or [])
            for name in args.libraries or []:  # the user must be a member: anything else is "no such library"
                picked.append(container.libraries.library(args.user, name).tenant)
            for event in container.chat.stream(args.user, args.question, doc_ids=picked or None):
                if event.answer is not None:
                    final = event.answer
                elif not args.json:
                    sys.stdout.write(event.delta)
                    sys.stdout.flush()
        except QuotaExceeded as e:
            if args.json:
                print(json.dumps(quota_json(e), ensure_ascii=False))
            print(f"error: {e}", file=sys.stderr)
            return QUOTA_EXIT
    assert final is not None
    if args.json:
        print(json.dumps(to_json(final), ensure_ascii=False))
        return 0
    print()
    if final.citations:
        print("\nSources:")
        for c in final.citations:
            quote = c.text if len(c.text) <= 160 else c.text[:159] + "…"
            section = f", {c.section}" if c.section else ""
            print(f"  [{c.number}] {c.file}, page {c.page}{section} (score {c.score:.3f}): {quote}")
    if final.mode == "retrieval_only":
        print("\n(answer generation is off: set APP_LLM__API_KEY to enable it)", file=sys.stderr)
    return 0
