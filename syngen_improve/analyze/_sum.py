"""The analysis of an input read in parts (shards, the batches of a Ray run), summed
into one, part by part: memory is the size of one analysis, not of the parts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

__all__ = ["AnalysisSum"]

_SUMMED = (
    "input",
    "malformed",
    "invalid",
    "good",
    "poor",
    "good_included",
    "duplicates",
    "deduped",
    "no_tool_call",
    "other_dialect",
)
_COUNTERS = ("issues_structural", "issues_notes", "tools", "agents")
_LINES = ("no_tool_call_lines", "other_dialect_lines")
_FIRST = ("dialect", "context")
_KEPT_LINES = 20


class AnalysisSum:
    """Add the analyses of parts of one input (:meth:`add`), then read the whole
    (:meth:`result`): counts summed, the poor examples' mean scores weighted by each
    part's poor count, the first lines listed kept (the lowest 20), complete when every
    part was."""

    def __init__(self) -> None:
        self.parts = 0
        self._sums: Counter[str] = Counter()
        self._counters: dict[str, Counter[str]] = {k: Counter() for k in _COUNTERS}
        self._weighted: dict[str, tuple[float, int]] = {}
        self._lines: dict[str, list[int]] = {k: [] for k in _LINES}
        self._first: dict[str, Any] = {}
        self._complete = True

    def add(self, part: Mapping[str, Any]) -> None:
        self.parts += 1
        for key in _SUMMED:
            self._sums[key] += int(part.get(key, 0) or 0)
        for key in _COUNTERS:
            self._counters[key].update(part.get(key) or {})
        weight = int(part.get("poor", 0) or 0)
        for dim, mean in (part.get("means_poor") or {}).items():
            if mean is not None and weight:
                total, count = self._weighted.get(dim, (0.0, 0))
                self._weighted[dim] = (total + mean * weight, count + weight)
            else:
                self._weighted.setdefault(dim, (0.0, 0))
        for key in _LINES:
            self._lines[key] = sorted({*self._lines[key], *(part.get(key) or [])})[:_KEPT_LINES]
        for key in _FIRST:
            if self._first.get(key) is None and part.get(key) is not None:
                self._first[key] = part[key]
        self._complete = self._complete and bool(part.get("complete", False))

    def result(self) -> dict[str, Any]:
        out: dict[str, Any] = {key: self._sums[key] for key in _SUMMED}
        for key in _COUNTERS:
            out[key] = dict(sorted(self._counters[key].items()))
        out["means_poor"] = {
            dim: (total / count if count else None)
            for dim, (total, count) in sorted(self._weighted.items())
        }
        out.update(self._lines)
        out.update({key: self._first.get(key) for key in _FIRST})
        out["complete"] = self._complete and self.parts > 0
        return out
