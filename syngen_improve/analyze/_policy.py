"""Relabel policies: which examples are poor and need improving.

A policy is any callable ``(example dict) -> bool`` that returns True for a poor
example; :class:`SeedPolicy` is the default and reproduces the seed's rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import UsageError

__all__ = ["RelabelPolicy", "SeedPolicy"]


class RelabelPolicy(Protocol):
    """Decides whether an example is poor (True) or good (False)."""

    def __call__(self, example: Mapping[str, Any], /) -> bool: ...


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@dataclass(frozen=True, slots=True)
class SeedPolicy:
    """Poor when ``overall_quality < overall_below`` or ``sessionMemory_quality <= memory_at_most``.

    The defaults are the seed's rule (overall < 3.0 or sessionMemory == 1). An
    example without quality scores keeps its own label (``label: false`` means
    poor); one with neither is taken as good, since nothing says it is poor.
    """

    overall_below: float = 3.0
    memory_at_most: float = 1.0

    def __post_init__(self) -> None:
        if not 1.0 <= self.overall_below <= 6.0:
            raise UsageError(f"'overall_below' must be between 1 and 6, got {self.overall_below}")
        if not 0.0 <= self.memory_at_most <= 5.0:
            raise UsageError(f"'memory_at_most' must be between 0 and 5, got {self.memory_at_most}")

    def __call__(self, example: Mapping[str, Any], /) -> bool:
        scores = example.get("quality_scores")
        if isinstance(scores, Mapping):
            overall = _number(scores.get("overall_quality"))
            memory = _number(scores.get("sessionMemory_quality"))
            if overall is not None or memory is not None:
                return (overall is not None and overall < self.overall_below) or (
                    memory is not None and memory <= self.memory_at_most
                )
        return example.get("label") is False
