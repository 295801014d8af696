"""Which dialect a row is in, from its shape alone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

__all__ = ["DIALECTS", "Dialect", "detect_dialect"]

Dialect = Literal["text", "openai"]
#: The dialects read and written (more to come: ShareGPT, Hermes tags).
DIALECTS: Final = ("text", "openai")


def detect_dialect(row: Mapping[str, Any]) -> Dialect | None:
    """``openai`` for a ``messages`` list of ``role`` messages, ``text`` for a
    ``conversations`` list of ``role``/``content`` turns; ``None`` when neither fits."""
    messages = row.get("messages")
    if isinstance(messages, list) and all(isinstance(m, Mapping) and "role" in m for m in messages):
        return "openai"
    turns = row.get("conversations")
    if isinstance(turns, list) and all(
        isinstance(t, Mapping) and "role" in t and "content" in t for t in turns
    ):
        return "text"
    return None
