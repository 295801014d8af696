"""Improvements written in the form of the rows they improve.

A run reads every row as the text grammar; an improvement goes back out in its input row's
own form: the dialect, the container (``messages`` or ``conversations``), the key names
(``role``/``content`` or ``from``/``value``) and role names (``human``, ``gpt``,
``observation``...), the spacing inside Hermes tags, call ids and key order. A turn the
improvement left as it was is the input's entries, verbatim; a changed turn is written anew
into the input's own entries when it has their shape (``_fill``), else anew in the row's
form, each message (each call) equal in content to the input's being the input's own: ids,
extra keys and JSON spelling included.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Final

from ._conversation import Conversation, Turn, TurnBuilder, decoded
from ._detect import Dialect
from ._fill import fill
from ._form import TAG_RE, Form, form_of
from ._openai import assistant_messages, openai_turns
from ._tagged import (
    entries,
    hermes_turns,
    sharegpt_turns,
    write_hermes,
    write_sharegpt,
)
from ._text import read_text

__all__ = ["restyle"]

#: The keys a writer sets on an entry (the others an input entry has are kept).
_WRITTEN: Final = frozenset({"role", "content", "from", "value", "tool_calls", "tool_call_id"})
_READERS: Final[Mapping[str, Callable[[Mapping[str, Any]], TurnBuilder]]] = {
    "openai": openai_turns,
    "sharegpt": sharegpt_turns,
    "hermes": hermes_turns,
}


def restyle(
    original: Mapping[str, Any], improved: Mapping[str, Any], dialect: Dialect | None
) -> dict[str, Any]:
    """``improved`` (a text-grammar row: its turns, then its keys) written in the form of
    ``original``, the input row it improves, read in ``dialect``."""
    rest = {k: v for k, v in improved.items() if k != "conversations"}
    new_turns = improved.get("conversations")
    if dialect is None or dialect == "text":
        return _ordered(original, rest, "conversations", _text_turns(original, new_turns))
    builder = _READERS[dialect](original)
    old = builder.done(None)
    items = entries(original) if dialect != "openai" else list(original.get("messages") or ())
    form = form_of(original, items, dialect)
    new = read_text(improved)
    out = _entries(form, old, builder.starts, items, new, rest)
    return _ordered(original, rest, form.container, out)


def _entries(
    form: Form,
    old: Conversation,
    starts: Sequence[int | None],
    items: Sequence[Any],
    new: Conversation,
    rest: dict[str, Any],
) -> list[Any]:
    """The row's entries: the input's for unchanged turns, the others written anew."""
    if len(new.turns) != len(old.turns):  # the gate keeps turns; written anew all the same
        return [e for t, turn in enumerate(new.turns) for e in _turn(form, turn, turn, t, ())]
    bounds = [s for s in starts if s is not None]
    out: list[Any] = list(items[: bounds[0]]) if bounds else []
    for t, (before, after) in enumerate(zip(old.turns, new.turns, strict=True)):
        span = _span(starts, t, len(items))
        if before == after:
            out.extend(items[span])
        elif starts[t] is None:  # a top-level system prompt (ShareGPT)
            rest["system"] = after.text
        else:
            out.extend(_turn(form, before, after, t, items[span]))
    return out


def _span(starts: Sequence[int | None], t: int, end: int) -> slice:
    first = starts[t]
    if first is None:
        return slice(0, 0)
    later = (s for s in starts[t + 1 :] if s is not None)
    return slice(first, next(later, end))


def _turn(form: Form, before: Turn, turn: Turn, t: int, span: Sequence[Any]) -> list[Any]:
    """A changed turn's entries: the input's entries holding the improvement when it fits
    them (read back to make sure), else written anew in the row's form, reusing the
    input's entries where equal."""
    filled = fill(form, before, turn, span)
    if filled is not None and _reads_as(form, filled, turn):
        return filled
    one_call = _one_call_each(form, span)
    if form.dialect == "openai":
        ids = [
            c.get("id")
            for m in span
            if isinstance(m, Mapping)
            for c in (m.get("tool_calls") or ())
            if isinstance(c, Mapping)
        ]
        turn = Conversation((turn,)).with_call_ids(ids).turns[0]
        written: list[dict[str, Any]] = (
            assistant_messages(turn, t, one_call=one_call)
            if turn.role == "assistant"
            else [{"role": turn.role, "content": turn.text}]
        )
    elif form.dialect == "sharegpt":
        written = [dict(e) for e in write_sharegpt(Conversation((turn,)))]
    else:
        hermes = write_hermes(
            Conversation((turn,)), inside=form.inside, wrapped=form.wrapped, one_call=one_call
        )
        written = [dict(e) for e in hermes]
    return list(_reuse([form.entry(w) for w in written], span, form))


def _reads_as(form: Form, items: list[Any], turn: Turn) -> bool:
    return _READERS[form.dialect]({form.container: items}).done(None).turns == (turn,)


def _one_call_each(form: Form, span: Sequence[Any]) -> bool:
    """The input gave each call its own message (two or more, one call in each)."""
    counts = []
    for item in span:
        if not isinstance(item, Mapping):
            continue
        if form.dialect == "openai":
            counts.append(len(item.get("tool_calls") or ()))
        else:
            counts.append(str(item.get("value", item.get("content", ""))).count("<tool_call>"))
    with_calls = [n for n in counts if n]
    return len(with_calls) >= 2 and max(with_calls) == 1


def _reuse(written: list[dict[str, Any]], span: Sequence[Any], form: Form) -> Iterator[Any]:
    """Each written entry, or the input's entry of the same kind at the same place when
    their contents are equal; else the written one in the input entry's key order, with
    its other keys."""
    by_kind: dict[Any, list[Mapping[str, Any]]] = {}
    for item in span:
        if isinstance(item, Mapping):
            by_kind.setdefault(item.get(form.keys[0]), []).append(item)
    for entry in written:
        same_kind = by_kind.get(entry[form.keys[0]])
        given = same_kind.pop(0) if same_kind else None
        if given is None:
            yield entry
        elif _same(entry, given):
            yield given
        else:
            yield _merged(entry, given)


def _same(entry: Mapping[str, Any], given: Mapping[str, Any]) -> bool:
    keys = set(entry) | (set(given) & _WRITTEN)
    return all(_norm(entry.get(k)) == _norm(given.get(k)) for k in keys if k != "tool_call_id")


def _merged(entry: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in given.items():
        if key == "tool_calls" and key in entry:
            out[key] = _calls(entry[key], value)
        elif key in entry:
            out[key] = entry[key]
        elif key not in _WRITTEN:
            out[key] = value
    out.update((k, v) for k, v in entry.items() if k not in out)
    return out


def _calls(written: list[Any], given: Any) -> list[Any]:
    """OpenAI tool calls: the input's own where equal at the same place."""
    kept = list(given) if isinstance(given, list) else []
    return [
        kept[n] if n < len(kept) and _norm(call) == _norm(kept[n]) else call
        for n, call in enumerate(written)
    ]


def _norm(value: Any) -> Any:
    """A value as compared: strings stripped and decoded (JSON, Hermes tags), ids left
    out, empty values alike."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        return _norm_text(value.strip())
    if isinstance(value, list):
        return [_norm(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _norm(v) for k, v in value.items() if k != "id"}
    return value


def _norm_text(text: str) -> Any:
    if "<tool_" not in text:
        return decoded(text)
    pieces: list[Any] = []
    pos = 0
    for match in TAG_RE.finditer(text):
        pieces += [text[pos : match.start()].strip(), (match.group(1), decoded(match.group(2)))]
        pos = match.end()
    pieces.append(text[pos:].strip())
    return [p for p in pieces if p != ""]


def _text_turns(original: Mapping[str, Any], new_turns: Any) -> Any:
    """Text-grammar turns: the input's own where the improvement left them as they were."""
    old_turns = original.get("conversations")
    if not isinstance(old_turns, list) or not isinstance(new_turns, list):
        return new_turns
    if len(old_turns) != len(new_turns):
        return new_turns
    return [
        before if _same_turn(before, after) else after
        for before, after in zip(old_turns, new_turns, strict=True)
    ]


def _same_turn(before: Any, after: Any) -> bool:
    if not (isinstance(before, Mapping) and isinstance(after, Mapping)):
        return False
    if before == after:  # most turns: nothing to parse
        return True
    return read_text({"conversations": [before]}) == read_text({"conversations": [after]})


def _ordered(
    original: Mapping[str, Any], rest: Mapping[str, Any], container: str, turns: Any
) -> dict[str, Any]:
    """The row's keys in the input's order (the turns under ``container``), then the new."""
    out: dict[str, Any] = {}
    for key in original:
        if key == container:
            out[key] = turns
        elif key in rest:
            out[key] = rest[key]
    out.setdefault(container, turns)
    out.update((k, v) for k, v in rest.items() if k not in out)
    return out
