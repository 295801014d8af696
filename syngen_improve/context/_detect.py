"""Which context convention a file follows, from its first rows."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Mapping
from typing import Any, Final

from .._conventions import CONTEXT_FIELDS, iter_tool_calls
from .._jsonl import Record, read_jsonl
from ..dialects import Dialect, FileDialect
from ._convention import NO_CONTEXT, SEVEN_FIELDS, ContextConvention

__all__ = ["SAMPLE_ROWS", "detect_convention", "detect_file_convention", "sample_rows"]

#: The rows detection reads from the start of a file.
SAMPLE_ROWS: Final = 200
_SEVEN: Final = frozenset(CONTEXT_FIELDS)


def detect_convention(rows: Iterable[Mapping[str, Any]]) -> ContextConvention:
    """``context7`` when at least half of the tool calls with object arguments in ``rows``
    (text-grammar rows) carry a ``context`` object with any of the seven fields, else
    ``none``. Rows without a call decide nothing; with no call at all, ``none``."""
    calls = with_context = 0
    for row in rows:
        for _turn, call in iter_tool_calls(row):
            if isinstance(call.arguments, dict):
                calls += 1
                ctx = call.arguments.get("context")
                with_context += isinstance(ctx, dict) and not _SEVEN.isdisjoint(ctx)
    return SEVEN_FIELDS if calls and with_context * 2 >= calls else NO_CONTEXT


def sample_rows(
    path: str | os.PathLike[str], dialect: Dialect | None = None
) -> list[dict[str, Any]]:
    """The rows of the first :data:`SAMPLE_ROWS` lines of ``path`` as the text grammar
    (any dialect; malformed lines skipped)."""
    rows = FileDialect(dialect)
    head = itertools.islice(read_jsonl(path), SAMPLE_ROWS)
    return [rows.rows(item.data, item.line) for item in head if isinstance(item, Record)]


def detect_file_convention(
    path: str | os.PathLike[str], dialect: Dialect | None = None
) -> ContextConvention:
    """:func:`detect_convention` on the first :data:`SAMPLE_ROWS` lines of ``path``."""
    return detect_convention(sample_rows(path, dialect))
