"""Prompt text. Kept apart from code so it can be read and reviewed as prose."""

from __future__ import annotations

import re

from app.documents.text_clean import CJK

_JAPANESE = re.compile(rf"[{CJK}]")

# The reply that means "the sources do not answer this": fixed, so that the service can recognise it
# whatever the question's language and show its own message instead (mode `not_found`).
NOT_FOUND_MARKER = "NOT_IN_SOURCES"

SYSTEM = f"""You answer questions about the user's documents.
Rules:
- Use ONLY the numbered sources below. Do not use outside knowledge.
- After each statement, cite its source number in square brackets, e.g. [1] or [2][3].
- The sources were found by a search and may be unrelated to the question. Read them closely: the
  answer may use other words than the question (e.g. "who wrote X?" answered by "X, written by Y").
- If the sources do not answer the question at all, reply with exactly {NOT_FOUND_MARKER} and nothing
  else, in any language. Do not guess. If they answer only part of it, answer that part and say
  what is missing.
- Answer in the same language as the question (Japanese question -> Japanese answer).
- Be concise: a short paragraph or a few bullet points."""

CONDENSE = """Rewrite the last user message as one standalone question that can be understood without
the conversation. Keep the user's language. Reply with the question only.

Conversation:
{history}

Last user message: {question}

Standalone question:"""

NOT_FOUND = {
    "en": "The documents do not contain this information.",
    "ja": "アップロードされた文書には、この質問への答えが見つかりませんでした。",
}
NO_DOCUMENTS = {
    "en": "You have no ready documents yet. Upload a PDF first.",
    "ja": "まだ利用できる文書がありません。先に PDF をアップロードしてください。",
}
RETRIEVAL_ONLY_WEAK = {
    "en": "Answer generation is off (no language model is configured). No passage matches the question well; the "
    "nearest ones are listed below and may not answer it.",
    "ja": "回答生成はオフです（言語モデルが設定されていません）。質問によく合う箇所はありません。最も近い箇所を以下に"
    "示しますが、答えになっていない可能性があります。",
}
RETRIEVAL_ONLY = {
    "en": "Answer generation is off (no language model is configured). The most relevant passages are listed below.",
    "ja": "回答生成はオフです（言語モデルが設定されていません）。関連する箇所を以下に示します。",
}


_NOT_WORD = re.compile(r"[\W_]+")
_MARKER = _NOT_WORD.sub("", NOT_FOUND_MARKER).upper()


def _letters(text: str) -> str:
    return _NOT_WORD.sub("", text).upper()


def may_be_not_found(start: str) -> bool:
    """Whether a reply beginning with `start` may still be the not-found marker (or begins with it):
    the answer service holds such a beginning back instead of streaming it."""
    letters = _letters(start)
    return _MARKER.startswith(letters) or letters.startswith(_MARKER)


def is_not_found(reply: str) -> bool:
    """The model's reply says the sources do not answer: it is (or begins with) the marker, or
    carries it without citing any source."""
    letters = _letters(reply)
    return letters.startswith(_MARKER) or (_MARKER in letters and not re.search(r"\[\d{1,2}\]", reply))


def without_marker(reply: str) -> str:
    """A reply that answers in part and also carries the marker: the marker is never shown."""
    return re.sub(rf"\s*`?{NOT_FOUND_MARKER}`?\.?", "", reply, flags=re.IGNORECASE).strip()


def is_retrieval_only(text: str) -> bool:
    """The fixed text of an answer made without a model (weak matches or not)."""
    return text in RETRIEVAL_ONLY.values() or text in RETRIEVAL_ONLY_WEAK.values()


def language_of(text: str) -> str:
    """'ja' when the text contains Japanese characters, else 'en'."""
    return "ja" if _JAPANESE.search(text) else "en"


def format_sources(passages: list[tuple[int, str, int, str, str]]) -> str:
    """passages: (number, file, page, section, text) -> the context block of the prompt."""
    return "\n\n".join(
        f"[{n}] {file} (p. {page}{', ' + section if section else ''})\n{text}"
        for n, file, page, section, text in passages
    )


def user_message(question: str, sources: str) -> str:
    return f"Sources:\n{sources}\n\nQuestion: {question}"
