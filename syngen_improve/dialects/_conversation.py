"""One model of a tool-calling example, whatever file format it came in.

A :class:`Conversation` is a sequence of :class:`Turn` s; an assistant turn is a sequence of
parts, each either text or a :class:`Call` (a tool's name, its arguments, and its result
when the example shows one). Dialects (``_text``, ``_openai``, ``_tagged``) read rows into
this model and write it back; everything that reasons about examples can work on it instead
of on one dialect's strings.

Text parts are kept stripped, and empty ones dropped: two rows that differ only in the
whitespace around their calls are the same conversation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

__all__ = [
    "Call",
    "Conversation",
    "ROLES",
    "Turn",
    "TurnBuilder",
    "decoded",
    "encoded",
    "render_call",
]

#: The roles a turn can have (a tool's result belongs to the call that asked for it).
ROLES: Final = ("system", "user", "assistant")


@dataclass(frozen=True, slots=True)
class Call:
    """One tool call: ``arguments`` is the decoded object (or the undecodable text, as a
    string), ``result`` the decoded result when ``has_result``. ``id`` is the dialect's
    call id when it has one (OpenAI's ``tool_call_id``); it does not take part in
    equality, since other dialects have none."""

    name: str
    arguments: Any
    result: Any = None
    has_result: bool = False
    id: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Turn:
    """A turn: its role and its parts in order (text, or a :class:`Call` in assistant
    turns)."""

    role: str
    parts: tuple[str | Call, ...] = ()

    @property
    def text(self) -> str:
        """The turn's text parts, joined by blank lines."""
        return "\n\n".join(p for p in self.parts if isinstance(p, str))

    @property
    def calls(self) -> tuple[Call, ...]:
        return tuple(p for p in self.parts if isinstance(p, Call))

    def steps(self, *, one_call: bool = False) -> list[tuple[list[str], list[Call]]]:
        """The parts as (texts, calls) steps, the way chat formats send them: a message's
        text, its calls and their results; text after calls starts the next step, and so
        does each call after the first with ``one_call`` (a message per call)."""
        steps: list[tuple[list[str], list[Call]]] = [([], [])]
        for part in self.parts:
            if isinstance(part, str):
                if steps[-1][1]:
                    steps.append(([], []))
                steps[-1][0].append(part)
            else:
                if one_call and steps[-1][1]:
                    steps.append(([], []))
                steps[-1][1].append(part)
        return [step for step in steps if step[0] or step[1]]

    @staticmethod
    def of(role: str, parts: Iterator[str | Call] | tuple[str | Call, ...] | list[Any]) -> Turn:
        """A turn with its text parts stripped and the empty ones left out."""
        kept: list[str | Call] = []
        for part in parts:
            if isinstance(part, str):
                part = part.strip()
                if not part:
                    continue
                if kept and isinstance(kept[-1], str):  # adjacent texts are one part
                    part = f"{kept.pop()}\n\n{part}"
            kept.append(part)
        return Turn(role, tuple(kept))


@dataclass(frozen=True, slots=True)
class Conversation:
    """An example's turns, and the tool definitions the row itself carries (OpenAI rows
    often do), as given."""

    turns: tuple[Turn, ...]
    tools: tuple[Mapping[str, Any], ...] | None = field(default=None, compare=False)

    @property
    def calls(self) -> tuple[Call, ...]:
        return tuple(c for t in self.turns for c in t.calls)

    def with_call_ids(self, ids: Sequence[str | None]) -> Conversation:
        """The conversation with its calls' ids set from ``ids``, in order; unchanged when
        the numbers of calls differ (ids belong to the calls they were given to)."""
        if len(ids) != len(self.calls):
            return self
        given = iter(ids)
        turns = tuple(
            Turn(
                t.role,
                tuple(replace(p, id=next(given)) if isinstance(p, Call) else p for p in t.parts),
            )
            for t in self.turns
        )
        return Conversation(turns, self.tools)


class TurnBuilder:
    """Turns assembled from a chat dialect's entries: an assistant turn goes on across its
    calls, their results and the text after them while ``goes_on`` is set; any other turn
    starts a new one.

    The reader sets ``entry`` to the index of the entry it reads; ``starts`` keeps, for each
    turn, the entry that opened it (``None`` for one from outside the list, such as a
    top-level system prompt), so a writer can tell which entries make up a turn."""

    def __init__(self) -> None:
        self.turns: list[Turn] = []
        self.starts: list[int | None] = []
        self.entry: int | None = None
        self.role: str | None = None
        self.parts: list[str | Call] = []
        self.goes_on = False

    def start(self, role: str | None) -> None:
        """Close the turn being built and open one for ``role`` (``None``: none)."""
        if self.role is not None:
            self.turns.append(Turn.of(self.role, self.parts))
        if role is not None:
            self.starts.append(self.entry)
        self.role, self.parts, self.goes_on = role, [], False

    def assistant(self) -> None:
        """An assistant entry: it goes on with the current turn, or opens one."""
        if self.role != "assistant" or not self.goes_on:
            self.start("assistant")

    def waiting(self) -> int:
        """Calls of the current turn still without a result."""
        return sum(1 for p in self.parts if isinstance(p, Call) and not p.has_result)

    def attach(self, result: Any, call_id: Any = None) -> bool:
        """Give ``result`` to the call with ``call_id``, else to the first call still
        without one; False when there is no such call."""
        calls = [(i, p) for i, p in enumerate(self.parts) if isinstance(p, Call)]
        match = next((ip for ip in calls if call_id is not None and ip[1].id == call_id), None)
        match = match or next((ip for ip in calls if not ip[1].has_result), None)
        if match is None:
            return False
        i, call = match
        self.parts[i] = Call(call.name, call.arguments, result, True, call.id)
        return True

    def done(self, tools: Any) -> Conversation:
        """The conversation, with the row's own ``tools`` (a list, or its JSON text)."""
        self.start(None)
        tools = decoded(tools)
        return Conversation(tuple(self.turns), tuple(tools) if isinstance(tools, list) else None)


def render_call(call: Call) -> str:
    """A call in the text tool-call grammar (the canonical rendering the model sees). A
    result in plain text (chat formats allow it) is written as a JSON string."""
    text = f"tool_call: {call.name}\narguments: {encoded(call.arguments)}"
    if call.has_result:
        result = call.result
        text += f"\n\nResult: {_json(result) if isinstance(result, str) else encoded(result)}"
    return text


#: ``json.dumps(value, ensure_ascii=False)``, without building an encoder per call.
_ENCODE: Final = json.JSONEncoder(ensure_ascii=False).encode


def _json(value: Any) -> str:
    """JSON as the dataset writes it (``json.dumps`` separators, non-ASCII kept)."""
    return _ENCODE(value)


def decoded(value: Any) -> Any:
    """A JSON-encoded string decoded (chat formats send arguments and results as strings);
    other values, and strings that are not JSON, as they are."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def encoded(value: Any) -> str:
    """A value as JSON text (a string stays as it is)."""
    return value if isinstance(value, str) else _json(value)
