"""The dataset's conventions that the pipeline reads from plain dicts: the quality score
names, the context fields, the id formats, and the tool calls of a raw example.

Kept apart from the pydantic models (:mod:`._model`) so that the pipeline does not import
pydantic: that is a tenth of a second of start-up before the first request.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from ._grammar import ToolCall, shared_tool_calls

__all__ = ["CONTEXT_FIELDS", "DIMENSIONS", "SESSION_ID_RE", "WORKSPACE_ID_RE", "iter_tool_calls"]

#: The seven fields of the context object, in the dataset's order.
CONTEXT_FIELDS: Final = (
    "sessionId",
    "workspaceId",
    "sessionDescription",
    "sessionMemory",
    "toolContext",
    "primaryGoal",
    "subgoal",
)
#: The five judged quality dimensions, in the data README's order.
DIMENSIONS: Final = (
    "sessionMemory_quality",
    "toolContext_quality",
    "goal_coherence",
    "response_realism",
    "prompt_naturalness",
)
SESSION_ID_RE: Final = re.compile(r"session_\d{13}_[a-z0-9]{9}")
WORKSPACE_ID_RE: Final = re.compile(r"ws_\d{13}_[a-z0-9]{9}")


def iter_tool_calls(example: Mapping[str, Any]) -> Iterator[tuple[int, ToolCall]]:
    """Yield ``(turn index, call)`` for each tool call of a raw example dict.

    Tolerates any shape: turns that are not dicts or whose content is not a
    string are skipped.
    """
    convs = example.get("conversations")
    if not isinstance(convs, list):
        return
    for turn_no, msg in enumerate(convs):
        if isinstance(msg, dict) and msg.get("role") == "assistant":
            content = msg.get("content")
            if isinstance(content, str):
                for call in shared_tool_calls(content):
                    yield turn_no, call
