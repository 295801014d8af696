"""Rows of any dialect as the text grammar, the rendering the stages read (and the model
is shown, DESIGN.md §3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._conversation import Conversation
from ._detect import Dialect, detect_dialect, has_call_tags
from ._openai import write_openai
from ._read import read_conversation
from ._tagged import write_hermes, write_sharegpt
from ._text import read_text, write_text

__all__ = ["FileDialect", "as_text_grammar", "canonical", "in_dialect"]


def as_text_grammar(row: Mapping[str, Any], dialect: Dialect | None = None) -> dict[str, Any]:
    """``row`` with its turns as ``conversations`` in the text grammar, its other keys kept.
    A row in the text grammar, or in no known dialect, comes back as it is (a dict)."""
    return _as_text(row, dialect or detect_dialect(row))[0]


def _as_text(
    row: Mapping[str, Any], found: Dialect | None
) -> tuple[dict[str, Any], Conversation | None]:
    """:func:`as_text_grammar` of a row read in ``found``, and the conversation read
    (``None`` for a row left as it is)."""
    if found is None or found == "text":
        return (row if isinstance(row, dict) else dict(row)), None
    conversation = read_conversation(row, found)
    # The turns first, as in the text grammar's own rows: the same example in any dialect
    # is the same JSON object, so the model is shown the same prompt.
    out: dict[str, Any] = {"conversations": write_text(conversation)}
    out.update((k, v) for k, v in row.items() if k not in ("messages", "conversations"))
    return out, conversation


def canonical(row: Mapping[str, Any]) -> dict[str, Any]:
    """A text-grammar row as the model is shown it (DESIGN.md §3): its turns rendered anew
    from the model of the conversation (compact JSON, one blank line around each call),
    then its other keys. The same example in any dialect, or written with other spacing or
    indentation, gives the same object."""
    out: dict[str, Any] = {"conversations": write_text(read_text(row))}
    out.update((k, v) for k, v in row.items() if k != "conversations")
    return out


def in_dialect(
    row: Mapping[str, Any], dialect: Dialect | None, *, call_ids: Sequence[str | None] = ()
) -> dict[str, Any]:
    """A row of the text grammar written in ``dialect`` (its turns first, its other keys
    kept); ``text`` or ``None`` leaves it as it is. ``call_ids`` are the OpenAI ids of the
    input row's calls (see :meth:`FileDialect.call_ids`), given back to the same calls."""
    if dialect is None or dialect == "text":
        return row if isinstance(row, dict) else dict(row)
    conversation = read_text(row)
    rest = {k: v for k, v in row.items() if k != "conversations"}
    if dialect == "openai":
        conversation = conversation.with_call_ids(call_ids) if call_ids else conversation
        return {"messages": write_openai(conversation)["messages"], **rest}
    turns = write_sharegpt(conversation) if dialect == "sharegpt" else write_hermes(conversation)
    return {"conversations": turns, **rest}


class FileDialect:
    """The dialect of one file, decided by its first row in a known dialect; later rows
    are read in it. A row whose own shape says another dialect is still read correctly and
    counted (``mixed_count``, the first 20 lines in ``mixed``), so a mixed file can be
    reported by line."""

    def __init__(self, forced: Dialect | None = None) -> None:
        self.dialect: Dialect | None = forced
        self._forced = forced is not None
        self.mixed: list[int] = []  # the first lines in another dialect (at most 20)
        self.mixed_count = 0

    def rows(self, row: dict[str, Any], line: int) -> dict[str, Any]:
        """``row`` in the text grammar."""
        return self._read(row, line)[0]

    def read(self, row: dict[str, Any], line: int) -> tuple[dict[str, Any], tuple[str | None, ...]]:
        """``row`` in the text grammar, and the ids of its calls when the file is OpenAI
        chat (in order; ``()`` otherwise): the text grammar has no place for them, so a
        conversion hands them to the rows it writes."""
        out, conversation, found = self._read(row, line)
        if conversation is None or found != "openai" or self.dialect != "openai":
            return out, ()
        return out, tuple(c.id for c in conversation.calls)

    def read_in(self, row: dict[str, Any], line: int) -> tuple[dict[str, Any], Dialect | None]:
        """``row`` in the text grammar, and the dialect it was read in (``None``: left as
        it is), the one :func:`restyle` writes its improvement back in."""
        out, _, found = self._read(row, line)
        return out, found

    def _read(
        self, row: dict[str, Any], line: int
    ) -> tuple[dict[str, Any], Conversation | None, Dialect | None]:
        if self._forced:
            found: Dialect | None = self.dialect
        elif self.dialect == "text" and _plainly_text(row):
            return row, None, "text"  # the common case, checked cheaply
        else:
            found = detect_dialect(row)
            if found is None:
                return row, None, None
            if self.dialect is None:
                self.dialect = found
            elif found != self.dialect:
                self.mixed_count += 1
                if len(self.mixed) < 20:
                    self.mixed.append(line)
        out, conversation = _as_text(row, found)
        return out, conversation, found

    def report(self) -> dict[str, Any]:
        """What analyze and the run's analysis say of the file: ``dialect``, and the rows in
        another one (``other_dialect``, the first 20 lines in ``other_dialect_lines``)."""
        return {
            "dialect": self.dialect,
            "other_dialect": self.mixed_count,
            "other_dialect_lines": list(self.mixed),
        }


def _plainly_text(row: Mapping[str, Any]) -> bool:
    """A row of ``conversations`` of role/content turns without Hermes tags."""
    turns = row.get("conversations")
    if "messages" in row or not isinstance(turns, list):
        return False
    return all(isinstance(t, Mapping) and "from" not in t and not has_call_tags(t) for t in turns)
