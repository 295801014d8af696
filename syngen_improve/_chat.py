"""Chat messages with native tool calls, the form chat templates with tool support render:
an assistant message per step with ``tool_calls`` (``{"type": "function", "function":
{"name", "arguments"}}``), then a ``tool`` message per result."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._columns import Columns
from .dialects import read_text
from .dialects._conversation import encoded

__all__ = ["chat_messages"]


def chat_messages(
    example: Mapping[str, Any], columns: Columns, call_ids: Sequence[str | None] = ()
) -> list[dict[str, Any]]:
    """The turns of a text-grammar row as chat messages with ``tool_calls``; each call's
    arguments go through ``columns`` (column ``arguments``), its id is kept when known."""
    conversation = read_text(example)
    ids = iter(call_ids if len(call_ids) == len(conversation.calls) else ())
    messages: list[dict[str, Any]] = []
    for turn in conversation.turns:
        if turn.role != "assistant":
            messages.append({"role": turn.role, "content": turn.text})
            continue
        for texts, calls in turn.steps():
            message: dict[str, Any] = {"role": "assistant", "content": "\n\n".join(texts)}
            results: list[dict[str, Any]] = []
            if calls:
                message["tool_calls"] = []
                for call in calls:
                    cid = next(ids, None)
                    function = {
                        "name": call.name,
                        "arguments": columns.value("arguments", call.arguments),
                    }
                    entry: dict[str, Any] = {"type": "function", "function": function}
                    tool: dict[str, Any] = {"role": "tool", "name": call.name}
                    if cid is not None:
                        entry["id"] = tool["tool_call_id"] = cid
                    message["tool_calls"].append(entry)
                    if call.has_result:
                        results.append({**tool, "content": encoded(call.result)})
            messages.append(message)
            messages.extend(results)
    return messages
