"""Value types shared by several layers (models, storage, services, edges). Nothing here imports
the rest of the app, so every layer may depend on it."""

from __future__ import annotations

from dataclasses import dataclass


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
