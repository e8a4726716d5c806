"""The name a document is stored and shown under.

Names come from the uploader (a browser's file name, a folder path given to `ingest`) and end up in
tables, citations, logs and the audit log. Files are stored by content hash, so a name is never a
path on disk; it is cleaned so that it cannot fake another line, reorder text or climb a folder."""

from __future__ import annotations

import unicodedata

MAX_NAME = 200
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)}


def display_name(name: str, fallback: str = "document.pdf") -> str:
    """`name` without control or bidirectional-override characters, with `/` as the only path
    separator and no empty, `.` or `..` parts, at most MAX_NAME characters (the extension kept)."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/")
    name = "".join(
        " " if ch in "\t\n\r" else ch
        for ch in name
        if ch in "\t\n\r" or (unicodedata.category(ch) not in ("Cc", "Cf") and ch not in _BIDI)
    )
    parts = [" ".join(p.split()) for p in name.split("/")]
    name = "/".join(p for p in parts if p not in ("", ".", ".."))
    if len(name) > MAX_NAME:
        _stem, dot, ext = name.rpartition(".")
        ext = ext if dot and len(ext) <= 10 else ""
        name = name[: MAX_NAME - len(ext) - 2] + "…" + ("." + ext if ext else "")
    return name or fallback
