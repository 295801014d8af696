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

from ._conversation import Call, Conversation, Turn, decoded, encoded

__all__ = ["read_openai", "write_openai"]


def _text(content: Any) -> str:
    """A message's text: a string, or the ``text`` of its content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n\n".join(
            str(p.get("text", "")) for p in content if isinstance(p, Mapping) and "text" in p
        )
    return ""


class _Builder:
    """Turns being assembled from messages."""

    def __init__(self) -> None:
        self.turns: list[Turn] = []
        self.role: str | None = None
        self.parts: list[str | Call] = []
        self.after_tool = False

    def close(self) -> None:
        if self.role is not None:
            self.turns.append(Turn.of(self.role, self.parts))
        self.role, self.parts, self.after_tool = None, [], False

    def open(self, role: str) -> None:
        self.close()
        self.role = role

    def result(self, message: Mapping[str, Any]) -> None:
        """A tool message: the result of the call it names (else the first one still
        without a result)."""
        wanted = message.get("tool_call_id")
        calls = [(i, p) for i, p in enumerate(self.parts) if isinstance(p, Call)]
        match = next((ip for ip in calls if wanted is not None and ip[1].id == wanted), None)
        match = match or next((ip for ip in calls if not ip[1].has_result), None)
        if match is None:
            return  # a result for no call: nothing to attach it to
        i, call = match
        result = decoded(message.get("content"))
        self.parts[i] = Call(call.name, call.arguments, result, True, call.id)
        self.after_tool = True


def read_openai(row: Mapping[str, Any]) -> Conversation:
    """The conversation of an OpenAI chat row."""
    build = _Builder()
    for message in row.get("messages") or ():
        if not isinstance(message, Mapping):
            continue
        role = message.get("role")
        if role in ("tool", "function"):
            if build.role == "assistant":
                build.result(message)
            continue
        if not isinstance(role, str):
            continue
        if not (role == "assistant" and build.role == "assistant" and build.after_tool):
            build.open(role)
        build.parts.append(_text(message.get("content")))
        calls = message.get("tool_calls") or ()
        # An assistant message that made calls goes on in the next one, results or not.
        build.after_tool = bool(calls) and role == "assistant"
        for item in calls:
            function = item.get("function") if isinstance(item, Mapping) else None
            if not isinstance(function, Mapping):
                continue
            name, arguments = str(function.get("name", "")), function.get("arguments")
            build.parts.append(Call(name, decoded(arguments), id=item.get("id")))
    build.close()
    tools = row.get("tools")
    return Conversation(tuple(build.turns), tuple(tools) if isinstance(tools, list) else None)


def _assistant(turn: Turn, t: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for s, (texts, calls) in enumerate(turn.steps()):
        ids = [c.id or f"call_{t}_{s}_{n}" for n, c in enumerate(calls)]
        message: dict[str, Any] = {"role": "assistant", "content": "\n\n".join(texts) or None}
        if calls:
            message["tool_calls"] = [
                {"id": cid, "type": "function",
                 "function": {"name": c.name, "arguments": encoded(c.arguments)}}
                for cid, c in zip(ids, calls, strict=True)
            ]  # fmt: skip
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
            messages.extend(_assistant(turn, t))
        else:
            messages.append({"role": turn.role, "content": turn.text})
    row: dict[str, Any] = {"messages": messages}
    carried = tools if tools is not None else conversation.tools
    if carried is not None:
        row["tools"] = list(carried)
    return row
