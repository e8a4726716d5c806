"""How answers and their sources are shown: the answer's Markdown with its numbered sources (or, with
no language model, the best passages), the source list beside the chat and which citation a chosen
source names. Model text and file names pass through safe_markdown, never raw; the sentences the
claim check found weak or unsupported are marked there, with a title that says why."""

from __future__ import annotations

from typing import Any

import gradio as gr

from app.answering.prompts import is_retrieval_only
from app.web.ui.i18n import claim_reason, msg
from app.web.ui.safe_markdown import Mark, literal, model_output
from app.web.ui.session import Session

Citations = list[dict[str, Any]]
Claims = list[dict[str, Any]]  # app.domain.Claim as stored: text, citations, support, reason
RANKED_PASSAGES = 5  # retrieval only: the best passages shown, best first


def answer_markdown(text: str, mode: str, citations: Citations, lang: str, claims: Claims | None = None) -> str:
    """An answer as the chat shows it: the model's text, its weak and unsupported sentences marked,
    and its sources; with no model (retrieval only) a short ranked list of the best passages instead
    (the banner above the chat says why)."""
    if mode == "retrieval_only" or is_retrieval_only(text):
        return format_ranked(citations, lang)
    return model_output(text, claim_marks(claims or [], lang)) + format_citations(citations, lang)


def claim_marks(claims: Claims, lang: str) -> list[Mark]:
    """A mark for each weak or unsupported sentence, in the answer's order: what is wrong, why, and
    which passages were checked (the title, shown on hover, or on a tap on a phone)."""
    marks = []
    for claim in claims:
        support = claim.get("support")
        if support not in ("weak", "unsupported"):
            continue
        numbers = [int(n) for n in claim.get("citations") or []]
        cited = ", ".join(f"[{n}]" for n in numbers)
        checked = (
            msg("claim.checked", lang, passages=msg(f"claim.passage{'s' if len(numbers) > 1 else ''}", lang, n=cited))
            if numbers
            else msg("claim.uncited", lang)
        )
        title = f"{msg(f'claim.{support}', lang)}\n{claim_reason(str(claim.get('reason', '')), lang)}\n{checked}"
        marks.append(Mark(str(claim.get("text", "")), f"claim claim-{support}", title))
    return marks


def format_citations(citations: Citations, lang: str) -> str:
    """The answer's sources under it, folded into one "Sources (n)" line that opens on a click: listed
    in full they pushed the answer itself out of the chat box. The same sources are listed beside the
    page view. The only HTML an answer carries: the model's text and every name and quote in it are
    escaped (safe_markdown), so nothing in them can close or open a tag."""
    if not citations:
        return ""
    lines = [f'\n\n<details class="sources"><summary>{msg("sources", lang)} ({len(citations)})</summary>\n']
    lines.extend(_entry(c, lang, max_quote=220) for c in citations)
    lines.append("\n</details>")
    return "\n".join(lines)


def format_ranked(citations: Citations, lang: str) -> str:
    """The best passages, best first: "[n] file — p. N · section" and a short quote; each [n]
    opens its page beside the chat. Passages that match the question only weakly are said to."""
    weak = any(c.get("weak") for c in citations)
    lines = [f"**{msg('ranked.weak' if weak else 'ranked', lang)}**"]
    lines.extend(_entry(c, lang, max_quote=140) for c in citations[:RANKED_PASSAGES])
    return "\n".join(lines)


def _entry(c: dict[str, Any], lang: str, max_quote: int) -> str:
    """ "[n] **file** — p. N · section" and a quote of at most `max_quote` characters, as text."""
    quote = " ".join(str(c["text"]).split())
    quote = quote if len(quote) <= max_quote else quote[: max_quote - 1] + "…"
    section = f" · {literal(c['section'])}" if c.get("section") else ""
    recognised = f" · *{msg('source.recognised', lang)}*" if c.get("ocr") else ""  # OCR: worth checking
    library = f" ({literal(msg('lib.citation', lang, name=c['library']))})" if c.get("library") else ""
    return (
        f"\n[{c['number']}] **{literal(str(c['file']))}**{library} — {msg('page', lang)} {c['page']}{section}"
        f"{recognised}"
        f"\n> {literal(quote)}"
    )


def shown_citations(citations: Citations, mode: str) -> Citations:
    """The sources listed beside an answer: with no model, the ranked passages the chat shows."""
    return citations[:RANKED_PASSAGES] if mode == "retrieval_only" else citations


def citation_choices(citations: Citations, answer: int) -> list[tuple[str, str]]:
    """One choice per source of the answer at chat index `answer`; the value names the answer, so a
    new answer never leaves an old answer's source selected under an unchanged value."""
    choices = []
    for i, c in enumerate(citations):
        section = f" · {c['section']}" if c.get("section") else ""
        library = f" ({c['library']})" if c.get("library") else ""
        choices.append((f"[{c['number']}] {c['file']}{library} p.{c['page']}{section}", f"{answer}:{i}"))
    return choices


def sources_update(citations: Citations, answer: int) -> Any:
    """The source list beside the chat, its first source selected (that is the one shown)."""
    choices = citation_choices(citations, answer)
    return gr.update(choices=choices, value=choices[0][1] if choices else None, visible=bool(choices))


def source_of(session: Session, value: str | None) -> dict[str, Any] | None:
    """The citation a source value ("<answer index>:<source index>") names in this session."""
    answer, _, index = str(value or "").partition(":")
    if not answer.isdigit() or not index.isdigit():
        return None
    citations = (session.get("answers") or {}).get(int(answer)) or []
    return citations[int(index)] if int(index) < len(citations) else None


def cited_index(citations: Citations, number: int) -> int | None:
    """Where the source numbered [number] is in an answer's citations."""
    for i, c in enumerate(citations):
        if int(c["number"]) == number:
            return i
    return None
