"""Parser for the assistant turn grammar of the dataset.

An assistant turn holds one or more tool calls::

    tool_call: NAME
    arguments: {JSON object}

    Result: {JSON object}        (optional)
    free prose                   (optional)

The parser walks the text left to right and decodes each JSON value where it
starts (so braces and ``tool_call:`` inside JSON strings never confuse it), and it
accepts raw control characters inside strings, which the dataset has.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson

__all__ = ["ToolCall", "parse_tool_calls", "shared_tool_calls"]

_DECODER = json.JSONDecoder(strict=False)
_CALL_MARK = "tool_call:"
_ARGS_MARK = "arguments:"
_RESULT_MARK = "Result:"
_WS = " \t\r\n"


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One ``tool_call`` of an assistant turn, with positions into the turn's text.

    ``arguments`` is ``None`` when the arguments are missing or do not decode
    (``arguments_error`` says why); ``result`` is ``None`` when there is no
    ``Result:`` (``has_result`` is False) or it does not decode (``result_error``).
    Spans are ``(start, end)`` offsets into the content string.
    """

    index: int
    name: str
    span: tuple[int, int]
    space_after_colon: bool
    arguments: Any
    arguments_span: tuple[int, int] | None
    arguments_error: str | None
    arguments_at_line_start: bool
    has_result: bool
    result: Any
    result_span: tuple[int, int] | None
    result_error: str | None

    @property
    def context(self) -> Any:
        """The ``context`` value of the arguments, or ``None``."""
        if isinstance(self.arguments, dict):
            return self.arguments.get("context")
        return None


def _decode_at(text: str, pos: int, stop: int) -> tuple[Any, int]:
    """Decode the JSON value starting at ``pos``; return it and its end offset.

    ``stop`` is where the next grammar element starts; when the value fills the
    text up to there, orjson decodes it much faster than the stdlib scanner.
    """
    tail = text[pos:stop].rstrip()
    # The value fills the text up to ``stop``, or up to its last "}" when prose follows it
    # (a parse that succeeds is the whole value: JSON allows nothing after it).
    ends = [pos + len(tail)] if tail.endswith("}") else []
    last = text.rfind("}", pos, stop)
    if last >= 0 and last + 1 not in ends:
        ends.append(last + 1)
    for end in ends:
        try:
            return orjson.loads(text[pos:end]), end
        except orjson.JSONDecodeError:
            pass  # raw control characters, or a "}" in the prose: fall back below
    value, end = _DECODER.raw_decode(text, pos)
    return value, end


def _skip_ws(text: str, pos: int) -> int:
    n = len(text)
    while pos < n and text[pos] in _WS:
        pos += 1
    return pos


def _decode_object(
    text: str, pos: int, stop: int, what: str, *, string: bool = False
) -> tuple[Any, tuple[int, int] | None, str | None, int]:
    """Decode the JSON object after a marker: (value, span, error, end offset). With
    ``string``, a JSON string is taken too (a tool that answers in plain text)."""
    start = _skip_ws(text, pos)
    if start >= len(text) or text[start] not in ('{"' if string else "{"):
        return None, None, f"{what} is not a JSON object", start
    try:
        value, end = _decode_at(text, start, stop)
    except json.JSONDecodeError as exc:
        error = f"{what} is not valid JSON: {exc.msg} at offset {exc.pos - start}"
        return None, None, error, start
    return value, (start, end), None, end


def _next_call(content: str, pos: int) -> int:
    """Offset of the next ``tool_call:`` that starts a line, at or after ``pos``; else the end."""
    i = content.find(_CALL_MARK, pos)
    while i > 0 and content[i - 1] != "\n":
        i = content.find(_CALL_MARK, i + 1)
    return i if i >= 0 else len(content)


def parse_tool_calls(content: str) -> list[ToolCall]:
    """Parse every tool call of an assistant turn, in order."""
    calls: list[ToolCall] = []
    n = len(content)
    pos = _next_call(content, 0)
    while pos < n:
        call_start = pos
        name_start = pos + len(_CALL_MARK)
        eol = content.find("\n", name_start)
        if eol < 0:
            eol = n
        name_field = content[name_start:eol]
        end = eol

        args: Any = None
        args_span: tuple[int, int] | None = None
        at_line_start = False
        seg_end = _next_call(content, eol)
        mark = content.find(_ARGS_MARK, eol, seg_end)
        if mark < 0:
            args_error: str | None = "arguments: missing"
        else:
            # Indentation before it is fine (the dataset's own validator accepts it).
            line_start = content.rfind("\n", 0, mark) + 1
            at_line_start = line_start > 0 and not content[line_start:mark].strip(" \t")
            body = mark + len(_ARGS_MARK)
            result_line = content.find("\n" + _RESULT_MARK, body, seg_end)
            stop = result_line if result_line >= 0 else seg_end
            args, args_span, args_error, end = _decode_object(content, body, stop, "arguments")
            end = max(end, body)

        # Arguments may hold "tool_call:" inside a string with a raw newline, so
        # when they end past the next call, it is searched for again after them.
        if end > seg_end:
            seg_end = _next_call(content, end)
        result: Any = None
        result_span: tuple[int, int] | None = None
        result_error: str | None = None
        rmark = content.find(_RESULT_MARK, end, seg_end)
        if rmark >= 0:
            body = rmark + len(_RESULT_MARK)
            result, result_span, result_error, rend = _decode_object(
                content, body, seg_end, "Result", string=True
            )
            end = max(rend, body)
            if end > seg_end:
                seg_end = _next_call(content, end)

        calls.append(
            ToolCall(
                index=len(calls),
                name=name_field.strip(),
                span=(call_start, end),
                space_after_colon=name_field[:1] == " ",
                arguments=args,
                arguments_span=args_span,
                arguments_error=args_error,
                arguments_at_line_start=at_line_start,
                has_result=rmark >= 0,
                result=result,
                result_span=result_span,
                result_error=result_error,
            )
        )
        pos = seg_end
    return calls


def shared_tool_calls(content: str) -> tuple[ToolCall, ...]:
    """:func:`parse_tool_calls`, remembered for the last 4,096 texts that have a call: one
    example is read by the analysis, the prompt, the gate and the invariant checks in turn,
    with up to twice the concurrency of other examples in between. The calls are shared
    between callers: read them, never change their ``arguments`` or ``result``."""
    return _remembered(content) if _CALL_MARK in content else ()


@lru_cache(maxsize=4096)
def _remembered(content: str) -> tuple[ToolCall, ...]:
    return tuple(parse_tool_calls(content))
