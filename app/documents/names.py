"""The name a document is stored and shown under.

Names come from the uploader (a browser's file name, a folder path given to `ingest`) and end up in
tables, citations, logs and the audit log. Files are stored by content hash, so a name is never a
path on disk. Each part of the name is cleaned by the app's one cleaning of names
(`app.clean.clean_line`: no control, format, bidi or zero-width characters, no line separators,
NFC), so that it cannot fake another line or reorder text, and `.`/`..` parts are dropped so that
it cannot climb a folder."""

from __future__ import annotations

from app.clean import clean_line

MAX_NAME = 200


def display_name(name: str, fallback: str = "document.pdf") -> str:
    """`name` cleaned part by part (`clean_line`), with `/` as the only path separator and no empty,
    `.` or `..` parts, at most MAX_NAME characters (the extension kept). Idempotent."""
    parts = (clean_line(part, len(part) + 1) for part in name.replace("\\", "/").split("/"))
    name = "/".join(p for p in parts if p not in ("", ".", ".."))
    if len(name) > MAX_NAME:
        _stem, dot, ext = name.rpartition(".")
        ext = ext if dot and len(ext) <= 10 else ""
        name = name[: MAX_NAME - len(ext) - 2] + "…" + ("." + ext if ext else "")
    return name or fallback
