"""Which dialect a row is in, from its shape alone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

from ..errors import UsageError

__all__ = ["DIALECTS", "Dialect", "check_dialect", "detect_dialect", "has_call_tags"]

Dialect = Literal["text", "openai", "sharegpt", "hermes"]
#: The dialects read and written.
DIALECTS: Final = ("text", "openai", "sharegpt", "hermes")


def check_dialect(dialect: object) -> None:
    """Raise :class:`UsageError` (a ``ValueError``) unless ``dialect`` is ``None`` or one
    of :data:`DIALECTS`."""
    if dialect is not None and dialect not in DIALECTS:
        raise UsageError(f"'dialect' must be one of {DIALECTS}, got {dialect!r}")


def has_call_tags(turn: Mapping[str, Any]) -> bool:
    """An assistant turn (``role`` or ``from``) whose text holds a Hermes ``<tool_call>``."""
    return turn.get("role", turn.get("from")) in ("assistant", "gpt") and "<tool_call>" in str(
        turn.get("content", turn.get("value", ""))
    )


def detect_dialect(row: Mapping[str, Any]) -> Dialect | None:
    """From the row's shape: ``hermes`` when an assistant turn holds ``<tool_call>`` tags
    (in either container), else ``openai`` for a ``messages`` list of ``role`` messages,
    ``sharegpt`` for ``conversations`` of ``from``/``value`` entries, ``text`` for
    ``conversations`` of ``role``/``content`` turns; ``None`` when nothing fits."""
    messages = row.get("messages")
    entries: Any = messages if isinstance(messages, list) else row.get("conversations")
    if not isinstance(entries, list) or not all(isinstance(t, Mapping) for t in entries):
        return None
    if any(has_call_tags(t) for t in entries):
        return "hermes"
    if isinstance(messages, list) and all("role" in m for m in messages):
        return "openai"
    if all("from" in t and "value" in t for t in entries):
        return "sharegpt"
    if all("role" in t and "content" in t for t in entries):
        return "text"
    return None
