"""The text tool-call grammar: ``conversations`` of ``role``/``content`` turns whose assistant
contents hold ``tool_call: NAME`` / ``arguments: {...}`` / ``Result: {...}`` (the dataset
this library started from; the rendering the model sees, DESIGN.md §3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._grammar import ToolCall, shared_tool_calls
from ._conversation import Call, Conversation, Turn, render_call

__all__ = ["read_text", "write_text"]


def _call(content: str, call: ToolCall) -> Call:
    """A parsed call; what did not decode is kept as its text."""
    if call.arguments_error is None:
        arguments = call.arguments
    else:  # everything after "arguments:" up to the result, or nothing
        start = content.find("arguments:", call.span[0], call.span[1])
        arguments = content[start + len("arguments:") : call.span[1]].strip() if start >= 0 else ""
    result: Any = None
    if call.has_result:
        if call.result_error is None:
            result = call.result
        else:
            start = content.find("Result:", call.span[0], call.span[1])
            result = content[start + len("Result:") : call.span[1]].strip()
    return Call(call.name, arguments, result, call.has_result)


def _assistant_parts(content: str) -> list[str | Call]:
    parts: list[str | Call] = []
    pos = 0
    for call in shared_tool_calls(content):  # the parse the other stages share
        start, end = call.span
        parts.append(content[pos:start])
        parts.append(_call(content, call))
        pos = end
    parts.append(content[pos:])
    return parts


def read_text(row: Mapping[str, Any]) -> Conversation:
    """The conversation of a row in the text grammar (turns that are not objects with a
    string content are skipped: the validator reports them)."""
    turns: list[Turn] = []
    for turn in row.get("conversations") or ():
        if not isinstance(turn, Mapping):
            continue
        role, content = turn.get("role"), turn.get("content")
        if not isinstance(role, str) or not isinstance(content, str):
            continue
        parts = _assistant_parts(content) if role == "assistant" else [content]
        turns.append(Turn.of(role, parts))
    return Conversation(tuple(turns))


def write_text(conversation: Conversation) -> list[dict[str, str]]:
    """The ``conversations`` list of ``conversation`` in the text grammar."""
    out = []
    for turn in conversation.turns:
        pieces = [p if isinstance(p, str) else render_call(p) for p in turn.parts]
        out.append({"role": turn.role, "content": "\n\n".join(pieces)})
    return out
