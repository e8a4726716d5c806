"""Prompt text. Kept apart from code so it can be read and reviewed as prose."""

from __future__ import annotations

import re

from app.documents.text_clean import CJK

_JAPANESE = re.compile(rf"[{CJK}]")

SYSTEM = """You answer questions about the user's documents.
Rules:
- Use ONLY the numbered sources below. Do not use outside knowledge.
- After each statement, cite its source number in square brackets, e.g. [1] or [2][3].
- If the sources do not contain the answer, say so plainly in one sentence and do not guess.
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
RETRIEVAL_ONLY = {
    "en": "Answer generation is off (no language model is configured). The most relevant passages are listed below.",
    "ja": "回答生成はオフです（言語モデルが設定されていません）。関連する箇所を以下に示します。",
}


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
