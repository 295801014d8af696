"""Prices, and the cost of a request's token usage, in whole picodollars.

Money is counted in integers (:data:`PICO` picodollars to the dollar: every published
per-million-token price, and half of it for batches, is a whole number of picodollars
per token), so reservations and settlements of a spending cap add up to exactly zero and
a run's cost does not drift with the number of requests. Dollars are for display only
(:func:`usd`).

A :class:`Pricing` holds one model's USD-per-million-token prices as published: input,
output, 5-minute and 1-hour cache writes (by default 1.25x and 2x the input price),
cache reads (0.1x) and, for a model priced higher above a prompt length, the ``long``
prices that apply to a request whose prompt (input, cache reads and writes together)
exceeds ``long_above`` tokens. The Message Batches API halves everything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from ..errors import UsageError

__all__ = ["PICO", "Pricing", "Usage", "cost_text", "usage_count", "usd"]

#: Picodollars in a dollar.
PICO: Final = 10**12
CACHE_READ_FACTOR: Final = 0.1
CACHE_WRITE_5M_FACTOR: Final = 1.25
CACHE_WRITE_1H_FACTOR: Final = 2.0
#: The Message Batches API's discount: a batch request costs 1 / BATCH_DIVISOR of online.
BATCH_DIVISOR: Final = 2
#: Prompt length (tokens) above which a model's ``long`` prices apply.
LONG_PROMPT: Final = 100_000
CacheTTL = Literal["5m", "1h"]


def usd(picos: int) -> float:
    """Dollars from picodollars (for display and report.json)."""
    return picos / PICO


def cost_text(value: float | None, digits: int = 4) -> str:
    """A cost as shown to a person: ``$0.0402``, or ``unknown`` when the model's price is
    not known (never ``$0.0000``)."""
    return (
        "unknown (no price for the model: give one with --price IN,OUT)"
        if value is None
        else f"${value:.{digits}f}"
    )


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
    """Token counts as the API reports them (input excludes cached tokens; output
    includes thinking)."""

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

    @property
    def prompt(self) -> int:
        """The whole prompt's tokens (what the long-prompt price is decided by)."""
        return self.input + self.cache_read + self.cache_creation


def _per_token(usd_per_mtok: float) -> int:
    """Picodollars per token from USD per million tokens."""
    return round(usd_per_mtok * 1_000_000)


@dataclass(frozen=True, slots=True)
class Pricing:
    """USD per million tokens of one model (see the module docstring). The cache prices
    default to the documented multiples of the input price."""

    input_per_mtok: float
    output_per_mtok: float
    cache_write_5m_per_mtok: float | None = None
    cache_write_1h_per_mtok: float | None = None
    cache_read_per_mtok: float | None = None
    long: Pricing | None = None
    long_above: int = LONG_PROMPT

    def __post_init__(self) -> None:
        for name in (
            "input_per_mtok",
            "output_per_mtok",
            "cache_write_5m_per_mtok",
            "cache_write_1h_per_mtok",
            "cache_read_per_mtok",
        ):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise UsageError(f"{name!r} must be a number of USD per million tokens")
            if not math.isfinite(value) or value < 0:
                raise UsageError(f"{name!r} must be >= 0 (USD per million tokens), got {value}")

    def rates(self, usage: Usage, ttl: CacheTTL = "5m") -> tuple[int, int, int, int]:
        """Picodollars per token for (input, output, cache read, cache write) of a
        request with ``usage`` (its prompt length decides short or long prices)."""
        if self.long is not None and usage.prompt > self.long_above:
            return self.long.rates(Usage(), ttl)
        inp = self.input_per_mtok
        write = self.cache_write_1h_per_mtok if ttl == "1h" else self.cache_write_5m_per_mtok
        if write is None:
            write = inp * (CACHE_WRITE_1H_FACTOR if ttl == "1h" else CACHE_WRITE_5M_FACTOR)
        read = self.cache_read_per_mtok
        read = inp * CACHE_READ_FACTOR if read is None else read
        return (
            _per_token(inp),
            _per_token(self.output_per_mtok),
            _per_token(read),
            _per_token(write),
        )

    def picos(self, usage: Usage, *, batch: bool = False, ttl: CacheTTL = "5m") -> int:
        """The cost of one request's ``usage`` in picodollars (at the batch rate when
        ``batch``; cache writes at the ``ttl``'s price)."""
        inp, out, read, write = self.rates(usage, ttl)
        total = (
            usage.input * inp
            + usage.output * out
            + usage.cache_read * read
            + usage.cache_creation * write
        )
        return -(-total // BATCH_DIVISOR) if batch else total

    def cost(self, usage: Usage, *, batch: bool = False, ttl: CacheTTL = "5m") -> float:
        """The USD cost of ``usage`` (see :meth:`picos`)."""
        return usd(self.picos(usage, batch=batch, ttl=ttl))

    @classmethod
    def parse(cls, text: str) -> Pricing:
        """``"IN,OUT"`` (USD per million input and output tokens), as ``--price`` takes it."""
        try:
            inp, out = (float(p) for p in text.split(","))
        except ValueError:
            raise UsageError(
                f"a price is IN,OUT in USD per million tokens, like 0.10,0.50; got {text!r}"
            ) from None
        return cls(inp, out)
