"""Whether a JSON object has the shape of an example at all."""

from __future__ import annotations

from typing import Any

from .._conventions import DIMENSIONS

__all__ = ["shape_problem"]


def shape_problem(example: dict[str, Any]) -> str | None:
    """Why an example cannot be routed (a JSON object of the wrong shape), or ``None``:
    ``conversations`` must be a list of objects with string ``role`` and ``content``, and
    quality scores, when given, numbers (a string "2.0" would silently read as good)."""
    turns = example.get("conversations")
    if not isinstance(turns, list) or not all(
        isinstance(t, dict) and isinstance(t.get("role"), str) and isinstance(t.get("content"), str)
        for t in turns
    ):
        return "invalid example: 'conversations' is not a list of {role, content} objects"
    scores = example.get("quality_scores")
    if scores is None:
        return None
    if not isinstance(scores, dict):
        return f"invalid example: 'quality_scores' is a {type(scores).__name__}, not an object"
    for key in (*DIMENSIONS, "overall_quality"):
        value = scores.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            return f"invalid example: quality_scores.{key} is {value!r}, not a number"
    return None
