"""The report as a typed object: :class:`Report`, read from report.json's dict.

The stable keys of DESIGN.md §6 are typed fields; :meth:`Report.to_dict` gives back
the whole dict it was made from, so it serialises to exactly report.json's keys.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Final, TypeVar

__all__ = ["COUNT_LABELS", "Counts", "Report", "Requests", "Tokens", "thinking_text"]

#: The report's counts in words, for people (report.json keeps the keys).
COUNT_LABELS: Final = {
    "input": "input lines",
    "malformed": "malformed lines (quarantined)",
    "invalid": "invalid examples (quarantined)",
    "good": "good examples (not sent)",
    "poor": "poor examples (sent to the model)",
    "improved": "improved",
    "failed": "failed (not improved)",
    "retryable": "failed for the service's sake (a resume retries them)",
    "good_included": "good examples written to the desirable side (--include-good)",
    "poor_written": "originals written to the undesirable side",
    "interleaved": "rows in the KTO file",
    "quarantined": "lines in quarantine.jsonl",
    "duplicates": "repeated inputs",
    "deduped": "repeated inputs set aside (--dedupe)",
}

T = TypeVar("T")


def _int(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key, 0)
    return int(value) if isinstance(value, int | float) else 0


def _counters(cls: type[T], data: Mapping[str, Any]) -> T:
    """A dataclass of int fields from a report.json section (missing keys are 0)."""
    return cls(**{f.name: _int(data, f.name) for f in fields(cls)})  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Counts:
    """Where the input lines went."""

    input: int = 0
    malformed: int = 0
    invalid: int = 0
    good: int = 0
    poor: int = 0
    improved: int = 0
    failed: int = 0
    retryable: int = 0
    good_included: int = 0
    poor_written: int = 0
    interleaved: int = 0
    quarantined: int = 0
    duplicates: int = 0
    deduped: int = 0


@dataclass(frozen=True, slots=True)
class Requests:
    """Requests sent over all runs of the folder (``total``: those whose bytes went out;
    ``cancelled``: stopped before they were sent)."""

    total: int = 0
    cancelled: int = 0
    retried: int = 0
    rate_limited: int = 0
    timeouts: int = 0
    failed: int = 0


@dataclass(frozen=True, slots=True)
class Tokens:
    """Tokens over all runs of the folder."""

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_creation: int = 0


@dataclass(frozen=True)
class Report:
    """An output folder's report (report.json), typed. ``raw`` holds every key."""

    complete: bool
    interrupted: bool
    counts: Counts
    issues: Mapping[str, int]
    requests: Requests
    tokens: Tokens
    cost_usd: float | None
    elapsed_s: float
    runs: int
    model: str | None
    version: str
    quality_before: Mapping[str, float | None] | None = None
    quality_after: Mapping[str, float | None] | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Report:
        """The report of a report.json dict (missing keys read as zero / empty)."""
        return cls(
            complete=bool(data.get("complete", False)),
            interrupted=bool(data.get("interrupted", False)),
            counts=_counters(Counts, data.get("counts") or {}),
            issues=dict(data.get("issues") or {}),
            requests=_counters(Requests, data.get("requests") or {}),
            tokens=_counters(Tokens, data.get("tokens") or {}),
            cost_usd=None if data.get("cost_usd", 0.0) is None else float(data["cost_usd"] or 0.0),
            elapsed_s=float(data.get("elapsed_s") or 0.0),
            runs=_int(data, "runs"),
            model=data.get("model"),
            version=str(data.get("version", "")),
            quality_before=data.get("quality_before"),
            quality_after=data.get("quality_after"),
            raw=copy.deepcopy(dict(data)),
        )

    def to_dict(self) -> dict[str, Any]:
        """report.json's content: every key, as written."""
        return copy.deepcopy(dict(self.raw))

    def get(self, key: str, default: Any = None) -> Any:
        """Any other key of report.json (``attempts``, ``rejections``, ``interleaving``...)."""
        return copy.deepcopy(self.raw.get(key, default))


def thinking_text(thinking: Mapping[str, Any]) -> str | None:
    """report.json's ``thinking`` in words for report.md and report.html: what was sent,
    and the thinking tokens measured beside those the estimate assumed."""
    if not thinking:
        return None
    sent = thinking.get("thinking") or "the model's default"
    tool = "tool forced" if thinking.get("tool_choice") == "tool" else "tool choice auto"
    text = f"{sent} at effort {thinking.get('effort') or 'default'}, {tool}"
    if thinking.get("answers_with_thinking"):
        text += (
            f"; {thinking.get('measured_thinking_tokens', 0):,} thinking tokens an answer "
            f"measured ({thinking.get('assumed_thinking_tokens', 0):,} assumed)"
        )
    if thinking.get("switched"):
        text += f"; switched: {thinking['switched']}"
    return text
