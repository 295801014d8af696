"""Columns that ``datasets`` can load: a nested value is written as it is only while every
row's value agrees on one Arrow type; a column whose rows disagree is written as JSON text.

``datasets`` infers one Arrow type per column (before version 4.7 it has no type for
arbitrary JSON), so a list of tool definitions or a call's arguments object can be a
nested column only when all rows fit one type: the same kind of value at every path
(objects may miss keys, which load as null; integers and floats mix as floats). The
export writes nested values optimistically and, on the first row that disagrees, starts
again with that column as JSON text (:class:`Disagree`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Final

__all__ = ["Columns", "Disagree"]

_NULL: Final = "null"
_SCALARS: Final = {bool: "bool", int: "int", float: "float", str: "str"}


class Disagree(Exception):
    """A row's value of ``column`` has another type than the rows before it."""

    def __init__(self, column: str, detail: str) -> None:
        super().__init__(f"column {column!r}: {detail}")
        self.column = column


def _signature(value: Any) -> Any:
    """The Arrow-like type of a JSON value: a scalar name, ``("list", item)`` or
    ``("struct", {key: type})``."""
    if value is None:
        return _NULL
    kind = _SCALARS.get(type(value))
    if kind is not None:
        return kind
    if isinstance(value, list):
        item: Any = _NULL
        for element in value:
            item = _merge(item, _signature(element))
        return ("list", item)
    if isinstance(value, dict):
        return ("struct", {str(k): _signature(v) for k, v in value.items()})
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def _merge(a: Any, b: Any) -> Any:
    """One type for values of types ``a`` and ``b``; :class:`ValueError` when none."""
    if a == b or b == _NULL:
        return a
    if a == _NULL:
        return b
    if isinstance(a, str) and isinstance(b, str) and {a, b} == {"int", "float"}:
        return "float"
    if isinstance(a, tuple) and isinstance(b, tuple) and a[0] == b[0]:
        if a[0] == "list":
            return ("list", _merge(a[1], b[1]))
        fields = dict(a[1])
        for key, kind in b[1].items():
            fields[key] = _merge(fields[key], kind) if key in fields else kind
        return ("struct", fields)
    raise ValueError(f"{_name(a)} and {_name(b)}")


def _name(kind: Any) -> str:
    return kind if isinstance(kind, str) else kind[0]


class Columns:
    """Values of the nested columns: as they are while the rows agree, JSON text for the
    columns named in ``as_json``."""

    def __init__(self, as_json: Iterable[str] = ()) -> None:
        self.as_json = frozenset(as_json)
        self._types: dict[str, Any] = {}

    def value(self, column: str, value: Any) -> Any:
        """``value`` for ``column``; raises :class:`Disagree` when it breaks the type the
        earlier rows gave the column."""
        if column in self.as_json:
            return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        try:
            self._types[column] = _merge(self._types.get(column, _NULL), _signature(value))
        except ValueError as exc:
            raise Disagree(column, f"a value of type {exc} in one column") from None
        return value
