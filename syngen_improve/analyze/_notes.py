"""Issue detection from the judge's notes, the way the seed counted issues, and from its
scores.

Each notes kind is a keyword rule over the lower-cased ``quality_scores.notes``: what the
seed counted, and noisy (a note that says the prompt is natural "unlike a Result object"
matches). The issues an improvement is asked to fix are chosen by :func:`issues_to_fix`: the
dimensions scored 2 or less, the notes only where a dimension has no score.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

__all__ = ["DIMENSION_KINDS", "detect_from_notes", "issues_to_fix", "judge_notes"]

#: The issue kind of each judged dimension.
DIMENSION_KINDS: Final = {
    "sessionMemory_quality": "empty_session_memory",
    "toolContext_quality": "generic_tool_context",
    "goal_coherence": "weak_goals",
    "prompt_naturalness": "unnatural_prompt",
    "response_realism": "missing_result",
}
#: A dimension scored at most this is an issue to fix.
LOW_SCORE: Final = 2


def _empty_memory(n: str) -> bool:
    return "sessionmemory is empty" in n or 'sessionmemory: ""' in n or "sessionmemory: []" in n


def _generic_context(n: str) -> bool:
    return "generic" in n and "toolcontext" in n


def _missing_result(n: str) -> bool:
    return "no result" in n or "missing result" in n


def _weak_goals(n: str) -> bool:
    return "primarygoal" in n and "subgoal" in n and ("similar" in n or "weak" in n)


def _unnatural_prompt(n: str) -> bool:
    return "prompt" in n and ("unnatural" in n or "result object" in n)


_RULES = (
    ("empty_session_memory", _empty_memory),
    ("generic_tool_context", _generic_context),
    ("missing_result", _missing_result),
    ("weak_goals", _weak_goals),
    ("unnatural_prompt", _unnatural_prompt),
)


def judge_notes(example: Mapping[str, Any]) -> str:
    """The judge's notes on the example (``quality_scores.notes``), or ``""``."""
    scores = example.get("quality_scores")
    notes = scores.get("notes") if isinstance(scores, Mapping) else None
    return notes.strip() if isinstance(notes, str) else ""


def detect_from_notes(example: Mapping[str, Any]) -> list[str]:
    """The issue kinds the judge's notes mention (empty when there are no notes)."""
    notes = judge_notes(example)
    if not notes:
        return []
    lowered = notes.lower()
    return [kind for kind, rule in _RULES if rule(lowered)]


def issues_to_fix(
    example: Mapping[str, Any], structural: Iterable[str], notes: Iterable[str] | None = None
) -> frozenset[str]:
    """The issue kinds an improvement is asked to fix: those found in the example's
    structure, the dimensions the judge scored :data:`LOW_SCORE` or less, and, for a
    dimension without a score, what the notes mention (``notes``: their kinds, when the
    caller has them)."""
    scores = example.get("quality_scores")
    scores = scores if isinstance(scores, Mapping) else {}
    kinds = set(structural)
    mentioned = set(detect_from_notes(example) if notes is None else notes)
    for dimension, kind in DIMENSION_KINDS.items():
        value = scores.get(dimension)
        if isinstance(value, bool) or not isinstance(value, int | float):
            if kind in mentioned:
                kinds.add(kind)
        elif value <= LOW_SCORE:
            kinds.add(kind)
    return frozenset(kinds)
