"""Prices per million tokens, and the cost of a run's token usage.

Figures as published for the current Haiku models (USD per million tokens, prompts up
to 100K tokens). Prompt-cache reads cost 0.1x the input price and 5-minute cache writes
1.25x; the Message Batches API halves everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ..errors import UsageError
from ._models import by_alias

__all__ = ["PRICES", "Pricing", "Usage", "price_for", "usage_count"]

CACHE_READ_FACTOR: Final = 0.1
CACHE_WRITE_5M_FACTOR: Final = 1.25
BATCH_FACTOR: Final = 0.5


def usage_count(usage: Mapping[str, Any], key: str) -> int:
    """A token count from a reply's usage object (absent or null: 0); a ``ValueError``
    for anything that is not a non-negative whole number, before it can reach a cost."""
    value = usage.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"usage.{key} is {value!r}, not a count")
    return value


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts as the API reports them (input excludes cached tokens)."""

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_creation: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input + other.input,
            self.output + other.output,
            self.cache_read + other.cache_read,
            self.cache_creation + other.cache_creation,
        )


@dataclass(frozen=True, slots=True)
class Pricing:
    """USD per million input and output tokens of one model."""

    input_per_mtok: float
    output_per_mtok: float

    def __post_init__(self) -> None:
        for name in ("input_per_mtok", "output_per_mtok"):
            if getattr(self, name) < 0:
                raise UsageError(f"{name!r} must be >= 0")

    def cost(self, usage: Usage, *, batch: bool = False) -> float:
        """The USD cost of ``usage`` (at the batch rate when ``batch``)."""
        inp = self.input_per_mtok / 1e6
        total = (
            usage.input * inp
            + usage.output * self.output_per_mtok / 1e6
            + usage.cache_read * inp * CACHE_READ_FACTOR
            + usage.cache_creation * inp * CACHE_WRITE_5M_FACTOR
        )
        return total * BATCH_FACTOR if batch else total


PRICES: Final[dict[str, Pricing]] = {
    "claude-haiku-5-5": Pricing(0.10, 0.50),
    "claude-haiku-4-5": Pricing(1.00, 5.00),
}


def price_for(model: str) -> Pricing | None:
    """The pricing of a model id (dated ids such as ``claude-haiku-4-5-20251001`` match
    their alias), or ``None`` when unknown."""
    return by_alias(model, PRICES)
