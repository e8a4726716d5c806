"""An optional judge for the claim check: the chat model reads the passages and the answer's claims
and says, for each claim, supported / weak / unsupported and why. Off by default (a deployment that
wants it passes `LLMJudge(chat_model)` to `ClaimChecker(judge=...)`): it costs a model call per
answer, and the word-and-embedding check needs none.

One call checks every claim of an answer. A reply that is not the JSON asked for, or that leaves a
claim out, or a model error, gives None: the checker then decides by its own scoring.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

from loguru import logger
from pydantic import BaseModel, ValidationError

from app.domain import Usage
from app.errors import LLMError

if TYPE_CHECKING:
    from app.models.llm import ChatModel

SYSTEM = """You check an answer against the numbered passages it was written from.
For each numbered claim, decide whether the passages the claim cites state it:
- "supported": the cited passages state it (in other words is fine);
- "weak": they state only part of it, or it follows from them only by inference;
- "unsupported": they do not state it, or state something different (another number, name, the opposite).
A claim that cites no passage is at most "weak", and "weak" only when some passage states it.
Reply with JSON only, no prose: {"verdicts": [{"claim": 1, "support": "supported", "reason": "..."}]}
with one verdict per claim, in order; each reason under 15 words, saying what is missing or different."""

_Support = Literal["supported", "weak", "unsupported"]


class _Verdict(BaseModel):
    claim: int
    support: _Support
    reason: str = ""


class _Reply(BaseModel):
    verdicts: list[_Verdict]


def judge_prompt(claims: Sequence[tuple[str, list[int]]], passages: Mapping[int, str]) -> str:
    sources = "\n\n".join(f"[{n}] {passages[n]}" for n in sorted(passages))
    lines = [
        f"{i}. (cites {', '.join(f'[{n}]' for n in cited) or 'nothing'}) {text}"
        for i, (text, cited) in enumerate(claims, 1)
    ]
    return f"Passages:\n{sources}\n\nClaims:\n" + "\n".join(lines)


def parse_verdicts(reply: str, count: int) -> list[tuple[_Support, str]] | None:
    """The verdicts of a reply, in claim order, or None when the reply is not what was asked for."""
    match = re.search(r"\{.*\}", reply, re.DOTALL)
    if match is None:
        return None
    try:
        parsed = _Reply.model_validate(json.loads(match.group()))
    except (json.JSONDecodeError, ValidationError):
        return None
    by_claim = {v.claim: v for v in parsed.verdicts}
    if sorted(by_claim) != list(range(1, count + 1)):
        return None
    return [(by_claim[i].support, by_claim[i].reason.strip() or by_claim[i].support) for i in range(1, count + 1)]


class LLMJudge:
    """`ClaimChecker`'s judge backed by the app's chat model. `usage` adds up the tokens of its calls
    (for the caller to account)."""

    def __init__(self, llm: ChatModel, api_key: str | None = None) -> None:
        self._llm = llm
        self._api_key = api_key
        self.usage = Usage()

    def __call__(
        self, claims: Sequence[tuple[str, list[int]]], passages: Mapping[int, str]
    ) -> list[tuple[_Support, str]] | None:
        from llama_index.core.llms import ChatMessage, MessageRole

        messages = [
            ChatMessage(role=MessageRole.SYSTEM, content=SYSTEM),
            ChatMessage(role=MessageRole.USER, content=judge_prompt(claims, passages)),
        ]
        try:
            reply, used = self._llm.complete(messages, self._api_key)
        except LLMError as e:
            logger.warning("claim judge failed, scoring instead reason={}", e)
            return None
        self.usage.add(used)
        verdicts = parse_verdicts(reply, len(claims))
        if verdicts is None:
            logger.warning("claim judge reply unreadable, scoring instead claims={}", len(claims))
        return verdicts
