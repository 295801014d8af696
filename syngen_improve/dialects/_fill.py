"""A changed turn written into its input entries: each text, call and result of the
improvement put where the input had its own, in the same entries.

This keeps everything the input chose (which message holds which text and call, tag
spacing, ids, extra keys, a result's wrapping) whenever the improvement has the input's
shape: its texts and calls in the same order. A result the improvement adds goes in an
entry of its own after its call's; one it leaves out is dropped. The caller reads the
entries back and keeps them only if they give the improved turn exactly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

from ._conversation import Call, Turn, decoded, encoded
from ._form import Form
from ._tagged import dumps

__all__ = ["fill"]

_CALL_RE: Final = re.compile(r"<tool_call>(\s*)(.*?)(\s*)</tool_call>", re.S)
_RESPONSE_RE: Final = re.compile(r"<tool_response>(\s*)(.*?)(\s*)</tool_response>", re.S)
_RESULT_KINDS: Final = frozenset({"tool", "observation", "function"})


class _Misfit(Exception):
    """The improvement does not fit the input's entries."""


def _shape(turn: Turn) -> tuple[bool, ...]:
    """Its parts as text (True) or call (False), in order."""
    return tuple(isinstance(p, str) for p in turn.parts)


class _Filler:
    """The improved turn's parts handed out in the input's order."""

    def __init__(self, form: Form, before: Turn, after: Turn) -> None:
        self.form = form
        self.before, self.after = before.calls, after.calls
        self._texts = iter(p for p in after.parts if isinstance(p, str))
        self.next_call = 0
        self.waiting: list[int] = []  # calls handed out whose result has not come yet
        self.ids: dict[Any, int] = {}  # the input's call ids -> the call's index
        self.id_of: dict[int, Any] = {}
        self.pending: list[int] = []  # results the improvement adds, waiting for a place

    def text(self, given: str) -> str:
        """The next text in place of ``given`` (its surrounding whitespace kept)."""
        if not given.strip():
            return given
        new = next(self._texts, None)
        if new is None:
            raise _Misfit
        if new == given.strip():
            return given
        lead = given[: len(given) - len(given.lstrip())]
        return lead + new + given[len(given.rstrip()) :]

    def call(self, call_id: Any = None) -> tuple[Call, bool]:
        """The next call, and whether it is the input's own."""
        j = self.next_call
        if j >= len(self.after):
            raise _Misfit
        self.next_call += 1
        if call_id is not None:
            self.ids[call_id] = j
            self.id_of[j] = call_id
        new, old = self.after[j], self.before[j]
        if old.has_result:
            self.waiting.append(j)
        elif new.has_result:
            self.pending.append(j)
        return new, (new.name, new.arguments) == (old.name, old.arguments)

    def result(self, call_id: Any = None) -> Call | None:
        """The call whose result comes next (by id, else the first waiting); None when the
        improvement left that result out."""
        j = self.ids.get(call_id) if call_id is not None else None
        if j is None:
            if not self.waiting:
                raise _Misfit
            j = self.waiting[0]
        if j in self.waiting:
            self.waiting.remove(j)
        new = self.after[j]
        return new if new.has_result else None

    def done(self) -> None:
        if next(self._texts, None) is not None or self.next_call != len(self.after):
            raise _Misfit


def fill(form: Form, before: Turn, after: Turn, span: Sequence[Any]) -> list[Any] | None:
    """``span`` (the input entries of turn ``before``) holding ``after`` instead, or None
    when ``after`` does not fit them."""
    if _shape(before) != _shape(after) or len(before.calls) != len(after.calls):
        return None
    filler = _Filler(form, before, after)
    out: list[Any] = []
    try:
        for item in span:
            if not isinstance(item, Mapping):
                out.append(item)
                continue
            kind = str(item.get(form.keys[0], "")).lower()
            if kind not in _RESULT_KINDS:
                _flush(form, filler, out)
            out.extend(_entry(form, filler, item, kind))
        _flush(form, filler, out)
        filler.done()
    except _Misfit:
        return None
    return out


def _entry(form: Form, filler: _Filler, item: Mapping[str, Any], kind: str) -> Iterator[Any]:
    content_key = form.keys[1]
    content = item.get(content_key)
    if form.dialect == "openai":
        yield from _openai(filler, item, kind)
    elif kind in _RESULT_KINDS and form.dialect == "hermes":
        text = _responses(filler, str(content or ""))
        if text.strip():
            yield _with(item, content_key, text)
    elif kind in _RESULT_KINDS:  # ShareGPT's observation
        yield from _observation(filler, item, content_key)
    elif kind == "function_call":
        yield _with(item, content_key, _function_call(filler, content))
    elif isinstance(content, str) and form.dialect == "hermes":
        yield _with(item, content_key, _tagged(filler, content))
    elif isinstance(content, str):
        yield _with(item, content_key, filler.text(content))
    else:
        raise _Misfit


def _with(item: Mapping[str, Any], key: str, value: Any) -> Any:
    """``item`` with ``key`` set to ``value`` (``item`` itself when it already is)."""
    return item if item.get(key) == value else {**item, key: value}


def _openai(filler: _Filler, item: Mapping[str, Any], kind: str) -> Iterator[Any]:
    if kind in ("tool", "function"):
        call = filler.result(item.get("tool_call_id"))
        if call is not None:
            same = decoded(item.get("content")) == call.result
            yield item if same else {**item, "content": encoded(call.result)}
        return
    content = item.get("content")
    out = dict(item)
    if isinstance(content, str):
        out["content"] = filler.text(content)
    elif content not in (None, []):
        raise _Misfit  # content parts: written anew
    calls = item.get("tool_calls")
    if isinstance(calls, list) and calls:
        out["tool_calls"] = [_openai_call(filler, c) for c in calls]
    yield item if out == item else out


def _openai_call(filler: _Filler, given: Any) -> Any:
    if not isinstance(given, Mapping):
        raise _Misfit
    call, same = filler.call(given.get("id"))
    if same:
        return given
    function = {"name": call.name, "arguments": encoded(call.arguments)}
    return {**given, "function": {**(given.get("function") or {}), **function}}


def _tagged(filler: _Filler, text: str) -> str:
    """A Hermes assistant text: its texts and ``<tool_call>`` tags filled in place."""
    pieces: list[str] = []
    pos = 0
    for match in _CALL_RE.finditer(text):
        pieces.append(filler.text(text[pos : match.start()]))
        call, same = filler.call()
        body = dumps({"name": call.name, "arguments": call.arguments})
        tag = f"<tool_call>{match.group(1)}{body}{match.group(3)}</tool_call>"
        pieces.append(match.group(0) if same else tag)
        pos = match.end()
    pieces.append(filler.text(text[pos:]))
    return "".join(pieces)


def _responses(filler: _Filler, text: str) -> str:
    """A Hermes result entry: each ``<tool_response>`` filled, or left out with its
    result."""
    pieces: list[str] = []
    pos = 0
    for match in _RESPONSE_RE.finditer(text):
        pieces.append(text[pos : match.start()])
        pos = match.end()
        call = filler.result()
        if call is None:
            continue
        given = decoded(match.group(2))
        wrapped = isinstance(given, Mapping) and set(given) == {"name", "content"}
        if (given.get("content") if wrapped else given) == call.result:
            pieces.append(match.group(0))
            continue
        body = dumps({"name": call.name, "content": call.result} if wrapped else call.result)
        pieces.append(f"<tool_response>{match.group(1)}{body}{match.group(3)}</tool_response>")
    pieces.append(text[pos:])
    return "".join(pieces)


def _function_call(filler: _Filler, value: Any) -> Any:
    """A ShareGPT ``function_call`` value: one call, or a list of them, as given."""
    given = decoded(value)
    many = isinstance(given, list)
    calls = [filler.call() for _ in (given if many else [given])]
    if all(same for _, same in calls):
        return value
    shown = [{"name": c.name, "arguments": c.arguments} for c, _ in calls]
    return encoded(shown if many else shown[0])


def _observation(filler: _Filler, item: Mapping[str, Any], key: str) -> Iterator[Any]:
    """A ShareGPT ``observation``: one result, or a list when several calls wait."""
    given = decoded(item.get(key))
    many = isinstance(given, list) and len(filler.waiting) > 1
    calls = [filler.result() for _ in (given if many else [given])]
    results = [c.result for c in calls if c is not None]
    if not results:
        return
    value = results if many else results[0]
    yield item if given == value else {**item, key: encoded(value)}


def _flush(form: Form, filler: _Filler, out: list[Any]) -> None:
    """The results the improvement adds, in entries of their own after their calls'."""
    if not filler.pending:
        return
    indices = list(filler.pending)
    calls = [filler.after[j] for j in indices]
    filler.pending.clear()
    role_key, content_key = form.keys
    tool = form.names.get("tool", "tool")
    if form.dialect == "openai":
        for j, call in zip(indices, calls, strict=True):
            call_id = filler.id_of.get(j, f"call_{j}")
            out.append({"role": "tool", "tool_call_id": call_id, "content": encoded(call.result)})
    elif form.dialect == "hermes":
        inside = form.inside
        shown = [
            dumps({"name": c.name, "content": c.result} if form.wrapped else c.result)
            for c in calls
        ]
        text = "\n".join(f"<tool_response>{inside}{s}{inside}</tool_response>" for s in shown)
        out.append({role_key: tool, content_key: text})
    else:
        results = [c.result for c in calls]
        out.append(
            {role_key: tool, content_key: encoded(results if len(results) > 1 else results[0])}
        )
