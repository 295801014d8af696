"""Verification: read an interleaved file as a trainer would and say what it will see."""

from __future__ import annotations

import os
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from .._jsonl import Malformed, Record, read_jsonl
from ..errors import UsageError
from ._arrange import prompt_key

__all__ = ["InterleaveReport", "Verifier", "verify_interleaving"]


@dataclass
class InterleaveReport:
    """What a trainer reading the file in order will see."""

    path: str
    batch_size: int
    total: int = 0
    desirable: int = 0
    undesirable: int = 0
    bad_labels: list[int] = field(default_factory=list)
    first_labels: list[bool] = field(default_factory=list)
    alternating: bool = True
    longest_run: int = 0
    longest_run_label: bool | None = None
    batches: int = 0
    batches_lacking_a_label: int = 0
    desirable_weight: float = 1.0
    undesirable_weight: float = 1.0
    #: Rows sharing a first user turn within ``prompt_gap`` rows of each other (TRL's KL pairs
    #: within a batch would then share a prompt), and the first few such line pairs.
    prompt_gap: int = 8
    close_prompts: int = 0
    close_prompt_lines: list[tuple[int, int]] = field(default_factory=list)

    @property
    def weighted_ratio(self) -> float | None:
        """(desirable_weight x D) / (undesirable_weight x U)."""
        if self.undesirable == 0:
            return None
        return (self.desirable_weight * self.desirable) / (
            self.undesirable_weight * self.undesirable
        )

    @property
    def weights_ok(self) -> bool:
        """TRL's recommended range for the weighted ratio: 1:1 to 4:3."""
        r = self.weighted_ratio
        return r is not None and 1.0 - 1e-9 <= r <= 4 / 3 + 1e-9

    def suggested_weights(self) -> dict[str, float]:
        """Weights that bring the ratio to 1:1 (the heavier side keeps weight 1)."""
        d, u = self.desirable, self.undesirable
        if d == 0 or u == 0:
            return {"desirable_weight": 1.0, "undesirable_weight": 1.0}
        if d >= u:
            return {"desirable_weight": 1.0, "undesirable_weight": round(d / u, 4)}
        return {"desirable_weight": round(u / d, 4), "undesirable_weight": 1.0}

    @property
    def ok(self) -> bool:
        return (
            not self.bad_labels
            and self.batches_lacking_a_label == 0
            and self.weights_ok
            and self.close_prompts == 0
        )

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["bad_labels"] = self.bad_labels[:20]
        out["close_prompt_lines"] = [list(p) for p in self.close_prompt_lines]
        out.update(
            weighted_ratio=self.weighted_ratio,
            weights_ok=self.weights_ok,
            suggested_weights=self.suggested_weights(),
            ok=self.ok,
        )
        return out

    def format_text(self) -> str:
        r = self.weighted_ratio
        ratio = "n/a" if r is None else f"{r:.3f}"
        lines = [
            f"{self.path}: {self.total} rows, {self.desirable} desirable, "
            f"{self.undesirable} undesirable",
            "first labels: " + " ".join("T" if x else "F" for x in self.first_labels),
            f"alternating while both last: {'yes' if self.alternating else 'no'}; "
            f"longest run: {self.longest_run} ({self.longest_run_label})",
            f"batches of {self.batch_size}: {self.batches}, lacking a label: "
            f"{self.batches_lacking_a_label}",
            f"rows within {self.prompt_gap} rows of a row with the same prompt: "
            f"{self.close_prompts}"
            + (f" (lines {self.close_prompt_lines[:5]})" if self.close_prompt_lines else ""),
            f"weighted ratio (w_d*D)/(w_u*U) = {ratio} "
            f"({'within' if self.weights_ok else 'outside'} TRL's 1:1 to 4:3); "
            f"suggested {self.suggested_weights()}",
        ]
        if self.bad_labels:
            lines.append(f"lines whose label is not a bool: {self.bad_labels[:20]}")
        return "\n".join(lines)


class Verifier:
    """:func:`verify_interleaving` one row at a time: :meth:`add` each line of ``path`` in
    file order, then :meth:`finish` (the report also feeds other checks from the same
    pass). The options are checked up front."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        batch_size: int = 8,
        desirable_weight: float = 1.0,
        undesirable_weight: float = 1.0,
        prompt_gap: int = 8,
    ) -> None:
        if prompt_gap < 0:
            raise UsageError(f"'prompt_gap' must be >= 0, got {prompt_gap}")
        if batch_size < 1:
            raise UsageError(f"'batch_size' must be >= 1, got {batch_size}")
        for name, w in (
            ("desirable_weight", desirable_weight),
            ("undesirable_weight", undesirable_weight),
        ):
            if w <= 0:
                raise UsageError(f"{name!r} must be > 0, got {w}")
        self.report = InterleaveReport(
            str(path),
            batch_size,
            desirable_weight=desirable_weight,
            undesirable_weight=undesirable_weight,
            prompt_gap=prompt_gap,
        )
        self._recent: deque[tuple[int | None, int]] = deque(maxlen=prompt_gap)
        self._previous: bool | None = None
        self._run = 0
        self._in_batch: set[bool] = set()
        self._alternating_prefix = 0  # leading labels that read True, False, True, ...

    def add(self, item: Record | Malformed) -> None:
        report = self.report
        if not isinstance(item, Record):
            report.bad_labels.append(item.line)
            return
        label = item.data.get("label")
        if not isinstance(label, bool):
            report.bad_labels.append(item.line)
            return
        report.total += 1
        prompt = prompt_key(item.data)
        if prompt is not None:
            near = next((line for p, line in self._recent if p == prompt), None)
            if near is not None:
                report.close_prompts += 1
                if len(report.close_prompt_lines) < 20:
                    report.close_prompt_lines.append((near, item.line))
        if report.prompt_gap:
            self._recent.append((prompt, item.line))
        if label:
            report.desirable += 1
        else:
            report.undesirable += 1
        if len(report.first_labels) < 20:
            report.first_labels.append(label)
        prefix = self._alternating_prefix
        if prefix == report.total - 1 and label is (prefix % 2 == 0):
            self._alternating_prefix += 1
        self._run = self._run + 1 if label == self._previous else 1
        if self._run > report.longest_run:
            report.longest_run, report.longest_run_label = self._run, label
        self._previous = label
        self._in_batch.add(label)
        if report.total % report.batch_size == 0:
            report.batches += 1
            report.batches_lacking_a_label += len(self._in_batch) < 2
            self._in_batch = set()

    def finish(self) -> InterleaveReport:
        report = self.report
        if self._in_batch:
            report.batches += 1
            report.batches_lacking_a_label += len(self._in_batch) < 2
            self._in_batch = set()
        # Alternating while both sides last: the first 2 x min(D, U) labels alternate.
        report.alternating = self._alternating_prefix >= 2 * min(
            report.desirable, report.undesirable
        )
        return report


def verify_interleaving(
    path: str | os.PathLike[str],
    *,
    batch_size: int = 8,
    desirable_weight: float = 1.0,
    undesirable_weight: float = 1.0,
    prompt_gap: int = 8,
) -> InterleaveReport:
    """Check a KTO file in trainer order: alternation, balance, longest run, batches of
    ``batch_size`` lacking a label, TRL's weight range, and rows sharing a prompt within
    ``prompt_gap`` rows of each other. One streaming pass."""
    check = Verifier(
        path,
        batch_size=batch_size,
        desirable_weight=desirable_weight,
        undesirable_weight=undesirable_weight,
        prompt_gap=prompt_gap,
    )
    for item in read_jsonl(path):
        check.add(item)
    return check.finish()
