"""Text that a user or a document supplies as a *name* (a file name, a username typed at login, a
conversation title) is cleaned once, where it enters, by the functions here; everything after
(tables, the jobs API, app.log, the audit log, every view) sees only the clean form.

Removed: control characters (C0, C1, DEL), format characters (Unicode category Cf: zero-width
spaces and joiners, bidirectional overrides, embeddings, isolates and marks, the BOM, soft hyphen),
line and paragraph separators (Zl, Zp), private-use and unassigned code points and lone
surrogates. Whitespace runs (tabs, newlines, U+3000 and the like) become one space. The result is
NFC and bounded in length.

Usernames are compared after NFKC and case folding (`username_key`): no `Bob` beside `bob`, no
full-width `ｂｏｂ` beside `bob`.
"""

from __future__ import annotations

import unicodedata

# Everything that is not text a person reads: controls, format characters (zero-width, bidi,
# BOM), separators of lines and paragraphs, private use, surrogates and unassigned code points.
_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})
_WHITESPACE_CONTROLS = frozenset("\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85")


def clean_line(text: str, max_chars: int) -> str:
    """`text` as one line of plain, visible text: NFC, no invisible or layout-changing characters,
    whitespace runs collapsed to one space, stripped, at most `max_chars` characters."""
    text = unicodedata.normalize("NFC", text)
    kept: list[str] = []
    for ch in text:
        if ch in _WHITESPACE_CONTROLS or ch.isspace():
            kept.append(" ")
        elif unicodedata.category(ch) not in _DROP_CATEGORIES:
            kept.append(ch)
    line = " ".join("".join(kept).split())
    if len(line) > max_chars:
        line = line[: max(0, max_chars - 1)].rstrip() + "…"
    return line


def username_key(name: str) -> str:
    """The form two usernames are compared in: clean, NFKC, case-folded."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", clean_line(name, 256)).casefold())
