"""Reading a row in whichever dialect it is in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._conversation import Conversation
from ._detect import Dialect, detect_dialect
from ._openai import read_openai
from ._tagged import read_hermes, read_sharegpt
from ._text import read_text

__all__ = ["read_conversation"]


def read_conversation(row: Mapping[str, Any], dialect: Dialect | None = None) -> Conversation:
    """``row`` as a :class:`Conversation`, in ``dialect`` or the one its shape says."""
    found = dialect or detect_dialect(row)
    if found == "openai":
        return read_openai(row)
    if found == "text":
        return read_text(row)
    if found == "sharegpt":
        return read_sharegpt(row)
    if found == "hermes":
        return read_hermes(row)
    raise ValueError(
        "the row is in no known dialect: expected 'messages' (OpenAI chat) or "
        "'conversations' of role/content turns (the text tool-call grammar)"
    )
