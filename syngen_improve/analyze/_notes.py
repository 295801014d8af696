"""Issue detection from the judge's notes, the way the seed counted issues.

Each kind is a keyword rule over the lower-cased ``quality_scores.notes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["detect_from_notes"]


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


def detect_from_notes(example: Mapping[str, Any]) -> list[str]:
    """The issue kinds the judge's notes mention (empty when there are no notes)."""
    scores = example.get("quality_scores")
    notes = scores.get("notes") if isinstance(scores, Mapping) else None
    if not isinstance(notes, str) or not notes:
        return []
    lowered = notes.lower()
    return [kind for kind, rule in _RULES if rule(lowered)]
