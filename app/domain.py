"""Value types shared by several layers (models, storage, services, edges). Nothing here imports
the rest of the app, so every layer may depend on it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel


@dataclass
class Usage:
    """Tokens of one or more model calls, as the provider reported them (or as estimated)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.completion_tokens


Support = Literal["supported", "weak", "unsupported"]


class Claim(BaseModel):
    """One sentence of an answer as the claim check judged it against the passages it cites
    (app/answering/claims.py): stored with the answer, shown by the UI, listed by `ask --json`."""

    text: str  # the sentence as written in the answer, with its [n] markers
    citations: list[int]
    support: Support
    reason: str  # why, naming the passage checked (English; the UI translates the checker's forms)
