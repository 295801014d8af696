"""Two dialects whose turns are ``from``/``value`` or ``role``/``content`` entries:

- ShareGPT with function calls (LLaMA-Factory's layout): ``human`` / ``gpt`` / ``system``
  entries, a ``function_call`` entry whose value is ``{"name", "arguments"}`` (or a list of
  them), and an ``observation`` entry with the result (or a list, one per call);
- Hermes tags: assistant text with ``<tool_call>{"name", "arguments"}</tool_call>`` blocks, and
  a ``tool`` turn of ``<tool_response>{"name", "content"}</tool_response>`` blocks, in either
  container.

As in OpenAI chat, one assistant :class:`Turn` may span several entries: text, calls, their
results, then more text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from ._conversation import Call, Conversation, TurnBuilder, decoded, encoded

__all__ = [
    "ROLE_OF",
    "dumps",
    "entries",
    "hermes_turns",
    "kind_of",
    "read_hermes",
    "read_sharegpt",
    "sharegpt_turns",
    "write_hermes",
    "write_sharegpt",
]

ROLE_OF: Final = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "system": "system",
}
_CALL_RE: Final = re.compile(r"<tool_call>(.*?)</tool_call>", re.S)
_RESPONSE_RE: Final = re.compile(r"<tool_response>(.*?)</tool_response>", re.S)


def entries(row: Mapping[str, Any]) -> list[Any]:
    """The row's list of turns, in either container."""
    found = row.get("conversations") or row.get("messages")
    return found if isinstance(found, list) else []


def kind_of(turn: Any) -> str | None:
    """An entry's kind (``from`` or ``role``), lower-cased; None for no entry."""
    kind = turn.get("from", turn.get("role")) if isinstance(turn, Mapping) else None
    return kind.lower() if isinstance(kind, str) else None


def _entries(build: TurnBuilder, row: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(kind, text) of each turn of either container, kinds lower-cased; ``build.entry``
    follows."""
    for build.entry, turn in enumerate(entries(row)):
        kind = kind_of(turn)
        if kind is not None:
            text = turn.get("value", turn.get("content"))
            yield kind, text if isinstance(text, str) else ""


def _results(build: TurnBuilder, values: Any, *, each: bool = False) -> None:
    """Give the calls still without a result their results, in order: ``values`` is a list
    of them when ``each`` or when several calls wait (one call's result may be a list
    itself)."""
    if not (isinstance(values, list) and (each or build.waiting() > 1)):
        values = [values]
    for value in values:
        build.attach(value)
    build.goes_on = True


def _call(value: Any) -> Call:
    value = decoded(value)
    if isinstance(value, Mapping):
        return Call(str(value.get("name", "")), decoded(value.get("arguments")))
    return Call("", value)


def read_sharegpt(row: Mapping[str, Any]) -> Conversation:
    """The conversation of a ShareGPT row (``system`` may also be a top-level string)."""
    return sharegpt_turns(row).done(row.get("tools"))


def sharegpt_turns(row: Mapping[str, Any]) -> TurnBuilder:
    """The turns of a ShareGPT row, built (``done`` gives the conversation)."""
    build = TurnBuilder()
    system = row.get("system")
    if isinstance(system, str) and system.strip():
        build.start("system")
        build.parts.append(system)
    for kind, text in _entries(build, row):
        if kind == "function_call":  # goes on from the assistant's text before it
            if build.role != "assistant":
                build.start("assistant")
            value = decoded(text)
            build.parts.extend(_call(v) for v in (value if isinstance(value, list) else [value]))
            build.goes_on = True
        elif kind == "observation":
            _results(build, decoded(text))
        elif ROLE_OF.get(kind) == "assistant":
            build.assistant()
            build.parts.append(text)
            build.goes_on = False
        elif kind in ROLE_OF:
            build.start(ROLE_OF[kind])
            build.parts.append(text)
    return build


def read_hermes(row: Mapping[str, Any]) -> Conversation:
    """The conversation of a row with Hermes ``<tool_call>`` / ``<tool_response>`` tags."""
    return hermes_turns(row).done(row.get("tools"))


def hermes_turns(row: Mapping[str, Any]) -> TurnBuilder:
    """The turns of a Hermes row, built (``done`` gives the conversation)."""
    build = TurnBuilder()
    for kind, text in _entries(build, row):
        if kind in ("tool", "observation", "function"):
            results = [decoded(m.strip()) for m in _RESPONSE_RE.findall(text)]
            _results(
                build,
                [
                    r["content"] if isinstance(r, Mapping) and set(r) == {"name", "content"} else r
                    for r in results
                ],
                each=True,
            )
        elif ROLE_OF.get(kind) == "assistant":
            build.assistant()
            pos = 0
            for match in _CALL_RE.finditer(text):
                build.parts.append(text[pos : match.start()])
                build.parts.append(_call(match.group(1).strip()))
                pos = match.end()
            build.parts.append(text[pos:])
            build.goes_on = pos > 0
        elif kind in ROLE_OF:
            build.start(ROLE_OF[kind])
            build.parts.append(text)
    return build


def write_sharegpt(conversation: Conversation) -> list[dict[str, str]]:
    """The ``conversations`` list of a ShareGPT row."""
    out: list[dict[str, str]] = []
    names = {"user": "human", "assistant": "gpt", "system": "system"}
    for turn in conversation.turns:
        if turn.role != "assistant":
            out.append({"from": names.get(turn.role, turn.role), "value": turn.text})
            continue
        for texts, calls in turn.steps():
            if texts:
                out.append({"from": "gpt", "value": "\n\n".join(texts)})
            if calls:
                shown = [{"name": c.name, "arguments": c.arguments} for c in calls]
                out.append(
                    {
                        "from": "function_call",
                        "value": encoded(shown[0] if len(shown) == 1 else shown),
                    }
                )
                results = [c.result for c in calls if c.has_result]
                if results:
                    value = results[0] if len(calls) == 1 else results
                    out.append({"from": "observation", "value": encoded(value)})
    return out


def write_hermes(
    conversation: Conversation, *, inside: str = "\n", wrapped: bool = True, one_call: bool = False
) -> list[dict[str, str]]:
    """``role``/``content`` turns with Hermes tags (results in ``tool`` turns). ``inside``
    goes between a tag and its JSON; ``wrapped`` writes a result as ``{"name", "content"}``;
    ``one_call`` gives each call its own message."""
    out: list[dict[str, str]] = []
    for turn in conversation.turns:
        if turn.role != "assistant":
            out.append({"role": turn.role, "content": turn.text})
            continue
        for texts, calls in turn.steps(one_call=one_call):
            blocks = [
                f"<tool_call>{inside}{dumps({'name': c.name, 'arguments': c.arguments})}"
                f"{inside}</tool_call>"
                for c in calls
            ]
            out.append({"role": "assistant", "content": "\n\n".join([*texts, *blocks])})
            responses = [
                f"<tool_response>{inside}"
                f"{dumps({'name': c.name, 'content': c.result} if wrapped else c.result)}"
                f"{inside}</tool_response>"
                for c in calls
                if c.has_result
            ]
            if responses:
                out.append({"role": "tool", "content": "\n".join(responses)})
    return out


def dumps(value: Any) -> str:
    """JSON as Hermes tags hold it (non-ASCII kept)."""
    return json.dumps(value, ensure_ascii=False)
