"""Finding a JSON object in model text (fenced or not)."""

from __future__ import annotations

import json
from typing import Any, Final

__all__ = ["find_example"]

_DECODER: Final = json.JSONDecoder()


def find_example(text: str, *, key: str = "conversations") -> dict[str, Any] | None:
    """The last JSON object in ``text`` that has ``key`` at its top level (DESIGN.md §3).

    Scans left to right, skipping over each decoded object, so the cost is linear in
    the text and braces inside strings or prose do not confuse it.
    """
    found: dict[str, Any] | None = None
    pos = text.find("{")
    while pos >= 0:
        try:
            value, end = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError:
            pos = text.find("{", pos + 1)
            continue
        if isinstance(value, dict) and key in value:
            found = value
        pos = text.find("{", end)
    return found
