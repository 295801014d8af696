"""The acceptance gate: an answer becomes an improved example only if it passes.

Checks, in order: the answer holds an example (the forced tool's input, as the example's
``conversations`` or as a structured answer rendered to them, else a JSON object in the
text); it has the original's turns (roles, number, order); the tool calls
are the original's, same names, same order; every natural user request is kept; it is
not the original unchanged; the record we build from it passes the strict validation
profile (see ``_invariants`` for the rules and why).

The record keeps the original's metadata (``_index`` and the rest) and gets
``label: true`` and ``improved: true``. It never presents the original's scores as its
own: those move to ``original_quality_scores``; ``quality_scores`` is left for scores
measured on the improvement itself (the judge's, with ``--judge``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from .._conventions import iter_tool_calls
from .._text import find_example
from ..context._convention import SEVEN_FIELDS, ContextConvention
from ..llm import Reply
from ..prompts import IMPROVE_TOOL
from ..prompts._structured import render_answer
from ..validate import Level, ToolRegistry, validate_example
from ._invariants import request_problems, turns_problem, unchanged

__all__ = ["REASONS", "Verdict", "build_record", "check_candidate", "check_reply"]

# Set by the run on every record it writes (see run/_sinks.py); never copied from the input.
_STAMP_KEYS: Final = frozenset({"_source_line", "_source_key", "_provenance"})
# What the improvement has of its own, or must not inherit as its own.
_NOT_CARRIED: Final = frozenset(
    {
        "conversations",
        "label",
        "quality_scores",
        "improved",
        "original_quality_scores",
        "original_judge_scores",
    }
)

#: Why an answer was rejected (the report counts them).
REASONS: Final = (
    "no_example",
    "truncated",
    "refusal",
    "wrong_tool",
    "turns_changed",
    "tools_changed",
    "request_changed",
    "unchanged",
    "invalid",
)


@dataclass(frozen=True)
class Verdict:
    """``record`` when accepted; else ``reason`` (one of :data:`REASONS`) and ``errors``."""

    record: dict[str, Any] | None
    reason: str | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.record is not None


def build_record(candidate: Mapping[str, Any], original: Mapping[str, Any]) -> dict[str, Any]:
    """The improved record: the candidate's conversations, the original's metadata, and
    the original's scores under ``original_quality_scores`` (never as its own)."""
    record: dict[str, Any] = {"conversations": candidate.get("conversations"), "label": True}
    for key, value in original.items():
        if key not in _NOT_CARRIED and key not in _STAMP_KEYS:
            record[key] = value
    record["improved"] = True
    scores = original.get("quality_scores")
    if isinstance(scores, Mapping):
        record["original_quality_scores"] = dict(scores)
    return record


def _candidate(
    reply: Reply, context: ContextConvention
) -> tuple[dict[str, Any] | None, str | None, str | None]:
    if reply.stop_reason == "refusal":  # the 5.x safety classifiers declined the request
        return None, "refusal", "the model declined to answer (stop_reason refusal)"
    if reply.stop_reason == "max_tokens":  # a tool input cut short may still parse
        return (
            None,
            "truncated",
            (
                "the answer was cut off at max_tokens before it was complete; submit the whole "
                "example, keeping the texts concise"
            ),
        )
    use = reply.tool_use(IMPROVE_TOOL)
    if use is not None and isinstance(use.get("input"), dict):
        given = use["input"]
        if "turns" in given and "conversations" not in given:  # a structured answer
            rendered, why = render_answer(given, context)
            if rendered is None:
                return None, "no_example", f"the structured answer cannot be read: {why}"
            return rendered, None, None
        return given, None, None
    found = find_example(reply.text) if reply.text else None
    if found is not None:
        return found, None, None
    other = reply.tool_use()
    if other is not None:
        name = other.get("name")
        return None, "wrong_tool", f"you called {name!r}; submit with {IMPROVE_TOOL!r}"
    return None, "no_example", f"no example found in the answer; call {IMPROVE_TOOL!r}"


def _tool_names(example: Mapping[str, Any]) -> list[str]:
    return [call.name for _, call in iter_tool_calls(example)]


def check_reply(
    reply: Reply,
    original: Mapping[str, Any],
    *,
    schemas: ToolRegistry | None,
    require_result: bool = True,
    context: ContextConvention = SEVEN_FIELDS,
) -> Verdict:
    """Accept or reject one answer for ``original``. ``require_result=False`` accepts
    tool calls without a ``Result:`` (R402), for datasets whose format has none;
    ``context`` is the data's context convention (its rules are part of the strict
    profile)."""
    candidate, reason, error = _candidate(reply, context)
    if candidate is None:
        return Verdict(None, reason, [error or "no example"])
    return check_candidate(
        candidate, original, schemas=schemas, require_result=require_result, context=context
    )


def check_candidate(
    candidate: Mapping[str, Any],
    original: Mapping[str, Any],
    *,
    schemas: ToolRegistry | None,
    require_result: bool = True,
    context: ContextConvention = SEVEN_FIELDS,
) -> Verdict:
    """Accept or reject a candidate example (text grammar) for ``original``: what
    :func:`check_reply` does once it found the example in an answer; a person's edit in
    the review goes through it too."""
    if not isinstance(candidate.get("conversations"), list):
        return Verdict(None, "no_example", ["the example has no 'conversations' list"])
    record = build_record(candidate, original)
    turns = turns_problem(original, record)
    if turns is not None:
        return Verdict(None, "turns_changed", [turns])
    before, after = _tool_names(original), _tool_names(record)
    if before != after:
        return Verdict(
            None,
            "tools_changed",
            [
                f"the tool calls must stay the same, in the same order: expected {before}, "
                f"got {after}"
            ],
        )
    lost = request_problems(original, record)
    if lost:
        return Verdict(None, "request_changed", lost)
    if unchanged(original, record):
        return Verdict(
            None,
            "unchanged",
            [
                "the answer is the original unchanged (up to whitespace and key order): fix "
                "the problems listed for this example"
            ],
        )
    issues = validate_example(record, profile="strict", schemas=schemas, context=context)
    errors = [
        f"{i.code} ({i.location()}): {i.message}" if i.location() else f"{i.code}: {i.message}"
        for i in issues
        if i.level is Level.ERROR and (require_result or i.code != "R402")
    ]
    if errors:
        return Verdict(None, "invalid", errors)
    return Verdict(record)
