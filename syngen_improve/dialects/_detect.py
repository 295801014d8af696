"""Which dialect a row is in, from its shape alone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

__all__ = ["DIALECTS", "Dialect", "detect_dialect"]

Dialect = Literal["text", "openai", "sharegpt", "hermes"]
#: The dialects read and written.
DIALECTS: Final = ("text", "openai", "sharegpt", "hermes")


def detect_dialect(row: Mapping[str, Any]) -> Dialect | None:
    """From the row's shape: ``hermes`` when an assistant turn holds ``<tool_call>`` tags
    (in either container), else ``openai`` for a ``messages`` list of ``role`` messages,
    ``sharegpt`` for ``conversations`` of ``from``/``value`` entries, ``text`` for
    ``conversations`` of ``role``/``content`` turns; ``None`` when nothing fits."""
    messages = row.get("messages")
    entries: Any = messages if isinstance(messages, list) else row.get("conversations")
    if not isinstance(entries, list) or not all(isinstance(t, Mapping) for t in entries):
        return None
    if any(
        t.get("role", t.get("from")) in ("assistant", "gpt")
        and "<tool_call>" in str(t.get("content", t.get("value", "")))
        for t in entries
    ):
        return "hermes"
    if isinstance(messages, list) and all("role" in m for m in messages):
        return "openai"
    if all("from" in t and "value" in t for t in entries):
        return "sharegpt"
    if all("role" in t and "content" in t for t in entries):
        return "text"
    return None
