"""Estimated cost of tokens from the `pricing:` table. A model missing from the table has no cost
(None), never a guessed one."""

from __future__ import annotations

import math
from collections.abc import Mapping

from app.config import ModelPrice
from app.domain import Usage

MICRO = 1_000_000  # costs are counted in millionths of the currency so that counters stay integers


class Pricing:
    def __init__(self, prices: Mapping[str, ModelPrice]) -> None:
        self._prices = dict(prices)

    def knows(self, model: str) -> bool:
        return model in self._prices

    def cost(self, model: str, usage: Usage) -> float | None:
        price = self._prices.get(model)
        if price is None:
            return None
        return (usage.prompt_tokens * price.input_per_mtok + usage.completion_tokens * price.output_per_mtok) / 1e6

    def cost_micro(self, model: str, usage: Usage) -> int:
        """The cost in millionths (0 for an unpriced model), rounded up so that limits are not undercut."""
        price = self._prices.get(model)
        if price is None:
            return 0
        return math.ceil(usage.prompt_tokens * price.input_per_mtok + usage.completion_tokens * price.output_per_mtok)
