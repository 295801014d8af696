"""The OpenAI chat dialect: ``messages`` with ``tool_calls`` on assistant messages, a
``tool`` message per result (matched by ``tool_call_id``), and optionally the row's own
``tools`` (function definitions).

One assistant :class:`Turn` may span several messages: an assistant message with calls,
their ``tool`` results, then an assistant message that goes on (more text, more calls).
A user or system message starts a new turn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._conversation import Call, Conversation, Turn, TurnBuilder, decoded, encoded

__all__ = ["assistant_messages", "openai_turns", "read_openai", "write_openai"]


def _text(content: Any) -> str:
    """A message's text: a string, or the ``text`` of its content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n\n".join(
            str(p.get("text", "")) for p in content if isinstance(p, Mapping) and "text" in p
        )
    return ""


def read_openai(row: Mapping[str, Any]) -> Conversation:
    """The conversation of an OpenAI chat row."""
    return openai_turns(row).done(row.get("tools"))


def openai_turns(row: Mapping[str, Any]) -> TurnBuilder:
    """The turns of an OpenAI chat row, built (``done`` gives the conversation)."""
    build = TurnBuilder()
    for build.entry, message in enumerate(row.get("messages") or ()):
        if not isinstance(message, Mapping):
            continue
        role = message.get("role")
        if role in ("tool", "function"):
            result = decoded(message.get("content"))
            if build.role == "assistant" and build.attach(result, message.get("tool_call_id")):
                build.goes_on = True
            continue
        if not isinstance(role, str):
            continue
        if role == "assistant":
            build.assistant()
        else:
            build.start(role)
        build.parts.append(_text(message.get("content")))
        calls = message.get("tool_calls") or ()
        # An assistant message that made calls goes on in the next one, results or not.
        build.goes_on = bool(calls) and role == "assistant"
        for item in calls:
            function = item.get("function") if isinstance(item, Mapping) else None
            if not isinstance(function, Mapping):
                continue
            name, arguments = str(function.get("name", "")), function.get("arguments")
            build.parts.append(Call(name, decoded(arguments), id=item.get("id")))
    return build


def assistant_messages(turn: Turn, t: int, *, one_call: bool = False) -> list[dict[str, Any]]:
    """An assistant turn as messages: one per step (per call with ``one_call``), each
    followed by its results; ids kept, or made up as ``call_<turn>_<message>_<n>``."""
    messages: list[dict[str, Any]] = []
    for s, (texts, calls) in enumerate(turn.steps(one_call=one_call)):
        ids = [c.id or f"call_{t}_{s}_{n}" for n, c in enumerate(calls)]
        message: dict[str, Any] = {"role": "assistant", "content": "\n\n".join(texts) or None}
        if calls:
            message["tool_calls"] = [
                {
                    "id": cid,
                    "type": "function",
                    "function": {"name": c.name, "arguments": encoded(c.arguments)},
                }
                for cid, c in zip(ids, calls, strict=True)
            ]
        messages.append(message)
        messages.extend(
            {"role": "tool", "tool_call_id": cid, "content": encoded(c.result)}
            for cid, c in zip(ids, calls, strict=True)
            if c.has_result
        )
    return messages


def write_openai(
    conversation: Conversation, *, tools: Sequence[Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """An OpenAI chat row (``messages``, and ``tools`` when given or carried by the
    conversation). Call ids are kept, or made up as ``call_<turn>_<message>_<n>``."""
    messages: list[dict[str, Any]] = []
    for t, turn in enumerate(conversation.turns):
        if turn.role == "assistant":
            messages.extend(assistant_messages(turn, t))
        else:
            messages.append({"role": turn.role, "content": turn.text})
    row: dict[str, Any] = {"messages": messages}
    carried = tools if tools is not None else conversation.tools
    if carried is not None:
        row["tools"] = list(carried)
    return row
