"""The label-shortcut audit: can one surface feature tell the labels apart?

A preference dataset teaches what separates its desirable rows from its undesirable ones.
If a cheap surface feature alone does (every improvement has a ``Result:``, improvements
are much longer), a model can learn the feature instead of the quality. For each feature
the audit gives the ROC AUC of "this feature, alone, ranks desirable rows above
undesirable ones" (0.5: no information; 1.0 or 0.0: a perfect shortcut) and its
*separation*, ``max(AUC, 1 - AUC)``. A separation at or above :data:`THRESHOLD` (0.8) is
flagged: before training, make the undesirable side carry the feature too (or the
desirable side lack it), or at least know the model may key on it.
"""

from __future__ import annotations

import itertools
import os
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ._grammar import ToolCall, shared_tool_calls
from ._input import check_input
from ._jsonl import Record, read_jsonl
from .dialects import FileDialect
from .errors import UsageError

__all__ = [
    "Auditor",
    "FEATURES",
    "INTENDED",
    "ShortcutAudit",
    "Surface",
    "THRESHOLD",
    "audit_file",
    "audit_rows",
    "roc_auc",
]

#: Separation (max(AUC, 1 - AUC)) at or above which a feature is flagged.
THRESHOLD: Final = 0.8


@dataclass(frozen=True, slots=True)
class Surface:
    """What the features read of one row, taken apart once (tool calls are parsed once)."""

    turns: int
    prompt: str
    completion: str
    calls: tuple[ToolCall, ...]

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> Surface:
        raw = row.get("conversations")
        turns = [t for t in raw if isinstance(t, Mapping)] if isinstance(raw, list) else []
        user: list[str] = []
        assistant: list[str] = []
        calls: list[ToolCall] = []
        for turn in turns:  # one pass; the same calls as iter_tool_calls(row)
            content, role = turn.get("content"), turn.get("role")
            if not isinstance(content, str):
                continue
            if role == "user":
                user.append(content)
            elif role == "assistant":
                assistant.append(content)
                calls.extend(shared_tool_calls(content))
        return cls(len(turns), "\n".join(user), "\n".join(assistant), tuple(calls))


def _argument_keys(surface: Surface) -> float:
    total = 0
    for call in surface.calls:
        if isinstance(call.arguments, dict):
            total += len(call.arguments)
            context = call.arguments.get("context")
            total += len(context) if isinstance(context, dict) else 0
    return float(total)


#: The surface features audited: name -> (what it measures, how, from a :class:`Surface`).
FEATURES: Final[dict[str, tuple[str, Callable[[Surface], float]]]] = {
    "completion_length": ("characters in the assistant turns", lambda s: float(len(s.completion))),
    "prompt_length": ("characters in the user turns", lambda s: float(len(s.prompt))),
    "turns": ("number of turns", lambda s: float(s.turns)),
    "has_result": ("a `Result:` in an assistant turn", lambda s: float("Result:" in s.completion)),
    "tool_calls": ("number of tool calls", lambda s: float(len(s.calls))),
    "argument_keys": ("keys in the calls' arguments and context", _argument_keys),
}


#: Features a run changes on purpose: feature -> the issue kinds whose fix changes it (an
#: improvement writes the missing ``Result:``, adds the missing context object's keys,
#: rewrites an unnatural request). Flagged while the run fixed one of them, a feature is
#: reported as intended, not as a leak. The length of the answers is not here: no issue
#: kind asks for longer answers, and length is the shortcut a trainer most often learns.
INTENDED: Final[dict[str, tuple[str, ...]]] = {
    "has_result": ("missing_result",),
    "argument_keys": ("missing_context",),
    "prompt_length": ("unnatural_prompt",),
}


def roc_auc(desirable: Iterable[float], undesirable: Iterable[float]) -> float | None:
    """P(a desirable value > an undesirable one) + half the ties (Mann-Whitney), or None
    when a side is empty."""
    return _auc_of_counts(Counter(desirable), Counter(undesirable))


def _auc_of_counts(desirable: Counter[float], undesirable: Counter[float]) -> float | None:
    """:func:`roc_auc` of two sides given as value counts: memory and time by the distinct
    values (the features are counts and lengths), not by the rows. Each distinct desirable
    value is placed among the sorted distinct undesirable ones."""
    n_good, n_bad = desirable.total(), undesirable.total()
    if not n_good or not n_bad:
        return None
    values = sorted(undesirable)
    below = list(itertools.accumulate(undesirable[v] for v in values))  # rows <= values[i]
    wins = 0.0
    for value, times in desirable.items():
        lo_i, hi_i = bisect_left(values, value), bisect_right(values, value)
        lo = below[lo_i - 1] if lo_i else 0
        hi = below[hi_i - 1] if hi_i else 0
        wins += times * (lo + (hi - lo) / 2)
    return wins / (n_good * n_bad)


@dataclass
class ShortcutAudit:
    """The audit of one file: per feature its AUC, separation, means and whether flagged."""

    desirable: int = 0
    undesirable: int = 0
    threshold: float = THRESHOLD
    features: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def flagged(self) -> list[str]:
        """Every feature that separates the labels, intended or not."""
        return [name for name, f in self.features.items() if f["flagged"]]

    @property
    def intended(self) -> list[str]:
        """Flagged features the run changed on purpose (see :meth:`explain`)."""
        return [n for n, f in self.features.items() if f["flagged"] and f.get("intended_by")]

    @property
    def leaks(self) -> list[str]:
        """Flagged features no fix of the run accounts for."""
        return [n for n in self.flagged if n not in self.intended]

    def explain(self, kinds: Iterable[str]) -> None:
        """Mark each flagged feature that fixing one of ``kinds`` (the issue kinds the run
        was asked to fix) changes on purpose (:data:`INTENDED`): ``intended_by`` names
        the kind."""
        asked = set(kinds)
        for name, f in self.features.items():
            by = [k for k in INTENDED.get(name, ()) if k in asked]
            if f["flagged"] and by:
                f["intended_by"] = by[0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "desirable": self.desirable,
            "undesirable": self.undesirable,
            "threshold": self.threshold,
            "features": self.features,
            "flagged": self.flagged,
            "intended": self.intended,
            "leaks": self.leaks,
        }

    def format_text(self) -> str:
        out = [
            f"{self.desirable} desirable, {self.undesirable} undesirable rows; a feature is "
            f"flagged when it alone separates the labels with AUC >= {self.threshold} "
            f"(or <= {1 - self.threshold:.1f})",
            f"{'feature':<20}{'AUC':>7}{'mean (True)':>14}{'mean (False)':>14}",
        ]
        for name, f in self.features.items():
            auc = "n/a" if f["auc"] is None else f"{f['auc']:.3f}"
            by = f.get("intended_by")
            mark = f"  <- intended ({by})" if by else "  <- shortcut" if f["flagged"] else ""
            out.append(
                f"{name:<20}{auc:>7}{f['mean_desirable']:>14.2f}"
                f"{f['mean_undesirable']:>14.2f}{mark}"
            )
        for name in self.leaks:
            out.append(
                f"warning: {name} ({FEATURES[name][0]}) alone tells the labels apart: "
                "a model can learn it instead of the quality"
            )
        return "\n".join(out)


class Auditor:
    """:func:`audit_rows` one row at a time: :meth:`add` each row, then :meth:`result`
    (the report feeds it from the same pass as its other checks)."""

    def __init__(self, *, threshold: float = THRESHOLD) -> None:
        if not 0.5 < threshold <= 1.0:
            raise UsageError(f"'threshold' must be in (0.5, 1], got {threshold}")
        self.threshold = threshold
        # Each feature's values counted per side: memory by distinct values, not by rows.
        self._values: dict[str, tuple[Counter[float], Counter[float]]] = {
            n: (Counter(), Counter()) for n in FEATURES
        }
        self._counts = [0, 0]

    def add(self, row: Mapping[str, Any]) -> None:
        """Count a labelled row (``label`` True / False; others are skipped)."""
        label = row.get("label")
        if not isinstance(label, bool):
            return
        side = 0 if label else 1
        self._counts[side] += 1
        surface = Surface.of(row)
        for name, (_, measure) in FEATURES.items():
            self._values[name][side][measure(surface)] += 1

    def result(self) -> ShortcutAudit:
        audit = ShortcutAudit(self._counts[0], self._counts[1], threshold=self.threshold)
        for name, (good, bad) in self._values.items():
            auc = _auc_of_counts(good, bad)
            separation = None if auc is None else max(auc, 1 - auc)
            audit.features[name] = {
                "auc": None if auc is None else round(auc, 4),
                "separation": None if separation is None else round(separation, 4),
                "mean_desirable": _mean(good),
                "mean_undesirable": _mean(bad),
                "flagged": separation is not None and separation >= self.threshold,
            }
        return audit


def _mean(counts: Counter[float]) -> float:
    """The mean of counted values (sums of whole numbers, exact as the sum of a list)."""
    n = counts.total()
    return round(sum(v * k for v, k in counts.items()) / n, 4) if n else 0.0


def audit_rows(rows: Iterable[Mapping[str, Any]], *, threshold: float = THRESHOLD) -> ShortcutAudit:
    """Audit labelled rows (``label`` True / False; others are skipped)."""
    auditor = Auditor(threshold=threshold)
    for row in rows:
        auditor.add(row)
    return auditor.result()


def audit_file(path: str | os.PathLike[str], *, threshold: float = THRESHOLD) -> ShortcutAudit:
    """Audit a labelled JSONL file (one streaming pass; unreadable lines are skipped)."""
    source = Path(path)
    check_input(source)
    dialect = FileDialect()  # any dialect, read as the text grammar
    rows = (
        dialect.rows(item.data, item.line)
        for item in read_jsonl(source)
        if isinstance(item, Record)
    )
    return audit_rows(rows, threshold=threshold)
