"""Whether the server was seen using the prompt cache.

The API caches nothing below a model's minimum cacheable length and says nothing about
it (both cache counters stay 0); so does a gateway or a model that does not cache. A run
cannot know the floor of every model, so it looks at what the server reports: once
:data:`SAMPLE` answered requests have marked a prefix for caching without one cache read
or write, the cache is ``not_read`` and a :class:`~syngen_improve.errors.CacheWarning`
says so once.
"""

from __future__ import annotations

import warnings
from typing import Any, Final

from ..errors import CacheWarning
from ._pricing import Usage

__all__ = ["SAMPLE", "CacheObserver"]

#: Answered cache-marked requests after which no cache read or write is a finding.
SAMPLE: Final = 3


class CacheObserver:
    """Counts the answered requests that marked a prefix, and those the server reported
    a cache read or write for."""

    def __init__(self) -> None:
        self.marked = 0
        self.used = 0

    def observe(self, usage: Usage, *, marked: bool) -> None:
        """One answered request (``marked``: it carried a cache mark)."""
        if not marked:
            return
        self.marked += 1
        if usage.cache_read or usage.cache_creation:
            self.used += 1
        elif self.marked == SAMPLE and not self.used:
            warnings.warn(f"prompt caching is off: {self.reason}", CacheWarning, stacklevel=2)

    @property
    def status(self) -> str | None:
        """``read`` (the server read or wrote the cache), ``not_read`` (it did neither in
        the first :data:`SAMPLE` marked requests), ``None`` (too few seen to tell)."""
        if self.used:
            return "read"
        return "not_read" if self.marked >= SAMPLE else None

    @property
    def reason(self) -> str | None:
        if self.status != "not_read":
            return None
        return (
            f"the server reported no cache read or write for the first {SAMPLE} requests "
            "that marked the shared prefix for caching (its minimum cacheable length may "
            "be above the prefix, or the model or a gateway does not cache)"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "observed": self.status,
            "observed_reason": self.reason,
            "marked_requests": self.marked,
            "requests_using_cache": self.used,
        }
