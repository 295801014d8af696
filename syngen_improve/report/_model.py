"""The report, typed: :class:`Report` is built once from an output folder, and report.json,
report.md and report.html are all rendered from it (a key is named in one place: here).

Sections are frozen dataclasses (no pydantic import at start-up); :meth:`Report.to_dict`
is report.json's content and :meth:`Report.from_dict` reads it back (missing keys read as
zero / empty, unknown keys are ignored, so older folders still read).
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Final, TypeVar, Union, get_args, get_origin, get_type_hints

__all__ = [
    "AgentCoverage",
    "Cache",
    "Counts",
    "Coverage",
    "Interleaving",
    "Report",
    "Requests",
    "RunEntry",
    "StrictValidation",
    "Tokens",
    "Validation",
    "thinking_text",
]


S = TypeVar("S")
_FROZEN: Final = {"frozen": True, "slots": True}


def _load(cls: type[S], data: Mapping[str, Any]) -> S:
    """A section from its report.json dict: nested sections (also optional ones, and in
    lists or dicts) loaded in turn, missing keys left at their defaults, unknown ones
    ignored."""
    hints = get_type_hints(cls)
    present = [f.name for f in fields(cls) if f.name in data]  # type: ignore[arg-type]
    return cls(**{name: _value(hints[name], data[name]) for name in present})


def _value(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        hint = next(a for a in args if a is not type(None))
        origin, args = get_origin(hint), get_args(hint)
    if dataclasses.is_dataclass(hint) and isinstance(value, Mapping):
        return _load(hint, value)  # type: ignore[arg-type]
    if origin is list and args and dataclasses.is_dataclass(args[0]):
        return [_value(args[0], v) for v in value]
    if origin is dict and len(args) == 2 and dataclasses.is_dataclass(args[1]):
        return {k: _value(args[1], v) for k, v in value.items()}
    return value


def _count(label: str) -> Any:
    return field(default=0, metadata={"label": label})


@dataclass(**_FROZEN)
class Counts:
    """Where the input lines went (each field's description is its label for people)."""

    input: int = _count("input lines")
    malformed: int = _count("malformed lines (quarantined)")
    invalid: int = _count("invalid examples (quarantined)")
    good: int = _count("good examples (not sent)")
    poor: int = _count("poor examples (sent to the model)")
    improved: int = _count("improved")
    failed: int = _count("failed (not improved)")
    retryable: int = _count("failed for the service's sake (a resume retries them)")
    good_included: int = _count("good examples written to the desirable side (--include-good)")
    poor_written: int = _count("originals written to the undesirable side")
    interleaved: int = _count("rows in the KTO file")
    quarantined: int = _count("lines in quarantine.jsonl")
    duplicates: int = _count("repeated inputs")
    deduped: int = _count("repeated inputs set aside (--dedupe)")

    def labelled(self) -> list[tuple[str, int]]:
        """``(label, count)`` for every count, in order."""
        return [(f.metadata["label"], getattr(self, f.name)) for f in fields(self)]


@dataclass(**_FROZEN)
class Requests:
    """Requests sent over all runs of the folder (``total``: those whose bytes went out;
    ``cancelled``: stopped before they were sent; ``cached``: answers read from the
    response cache instead, at no cost)."""

    total: int = 0
    cancelled: int = 0
    cached: int = 0
    retried: int = 0
    rate_limited: int = 0
    timeouts: int = 0
    failed: int = 0


@dataclass(**_FROZEN)
class Tokens:
    """Tokens over all runs of the folder."""

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_creation: int = 0


@dataclass(**_FROZEN)
class Validation:
    """Answers the gate accepted and rejected."""

    passed: int = 0
    failed: int = 0


@dataclass(**_FROZEN)
class StrictValidation:
    """The strict validation of every desirable row."""

    profile: str = "strict"
    context: str = "context7"
    total: int = 0
    passed: int = 0
    pass_rate: float | None = None
    warnings: dict[str, int] = field(default_factory=dict)


@dataclass(**_FROZEN)
class Interleaving:
    """The KTO file as a trainer reads it."""

    rows: int = 0
    desirable: int = 0
    undesirable: int = 0
    first_labels: list[bool] = field(default_factory=list)
    alternating: bool = True
    longest_run: int = 0
    batch_size: int = 8
    batches_lacking_a_label: int = 0
    weighted_ratio: float | None = None
    suggested_weights: dict[str, float] = field(default_factory=dict)
    prompt_gap: int = 8
    close_prompts: int = 0


@dataclass(**_FROZEN)
class Cache:
    """Prompt caching: the prefix against the model's floor, tokens read and written."""

    status: str | None = None
    reason: str | None = None
    observed: str | None = None
    prefix_tokens: int | None = None
    floor: int | None = None
    read_tokens: int = 0
    write_tokens: int = 0
    read_share: float | None = None


@dataclass(**_FROZEN)
class AgentCoverage:
    """One agent's tools and calls."""

    tools: int = 0
    input_calls: int = 0
    improved_calls: int = 0


@dataclass(**_FROZEN)
class Coverage:
    """Tools seen, and calls by agent in the input and in the improvements."""

    tools: int = 0
    agents: dict[str, AgentCoverage] = field(default_factory=dict)


@dataclass(**_FROZEN)
class RunEntry:
    """One run of the folder (each resume is a run)."""

    elapsed_s: float | None = None
    interrupted: bool | None = None
    cost_usd: float | None = None
    requests: int = 0
    accepted_changes: Any = None


Scores = dict[str, float | None]
#: Keys report.json leaves out while they are empty (not judged, no shards, ...).
_ABSENT_WHEN_EMPTY: Final = frozenset(
    {"quality_before", "quality_after", "quality_dataset", "answer_tool", "thinking"}
    | {"shards", "chart", "review"}
)


@dataclass(**_FROZEN)
class Report:
    """An output folder's report: report.json's keys as typed fields (DESIGN.md §6)."""

    counts: Counts = field(default_factory=Counts)
    issues: dict[str, int] = field(default_factory=dict)
    issues_notes: dict[str, int] = field(default_factory=dict)
    validation: Validation = field(default_factory=Validation)
    attempts: dict[str, int] = field(default_factory=dict)
    rejections: dict[str, int] = field(default_factory=dict)
    failed_reasons: dict[str, int] = field(default_factory=dict)
    retryable_errors: dict[str, int] = field(default_factory=dict)
    strict_validation: StrictValidation = field(default_factory=StrictValidation)
    interleaving: Interleaving | None = None
    label_shortcuts: dict[str, Any] | None = None
    judged: int = 0
    quality_poor_input: Scores = field(default_factory=dict)
    requests: Requests = field(default_factory=Requests)
    tokens: Tokens = field(default_factory=Tokens)
    cost_usd: float | None = 0.0
    elapsed_s: float = 0.0
    runs: int = 0
    run_history: list[RunEntry] = field(default_factory=list)
    interrupted: bool = False
    complete: bool = False
    coverage: Coverage = field(default_factory=Coverage)
    files: dict[str, int] = field(default_factory=dict)
    model: str | None = None
    version: str = ""
    generated_at: str = ""
    cache: Cache = field(default_factory=Cache)
    answer_tool: dict[str, Any] | None = None
    thinking: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    shards: list[dict[str, Any]] | None = None
    quality_before: Scores | None = None
    quality_after: Scores | None = None
    quality_dataset: Scores | None = None
    chart: str | None = None
    #: Rows by the review decision that holds ({accept, reject, edit}); absent unreviewed.
    review: dict[str, int] | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Report:
        """The report of a report.json dict."""
        return _load(cls, data)

    def to_dict(self) -> dict[str, Any]:
        """report.json's content."""
        out = dataclasses.asdict(self)
        for key in _ABSENT_WHEN_EMPTY:
            if out.get(key) is None:
                del out[key]
        for entry in out["run_history"]:
            if entry.get("accepted_changes") is None:
                del entry["accepted_changes"]
        return out

    def get(self, key: str, default: Any = None) -> Any:
        """One key of report.json in its JSON form (``attempts``, ``interleaving``...)."""
        return self.to_dict().get(key, default)


def thinking_text(thinking: Mapping[str, Any] | None) -> str | None:
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
