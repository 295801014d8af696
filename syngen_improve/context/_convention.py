"""Context conventions: which object of a tool call's arguments carries the session's
context, its fields and their formats.

The dataset this library was built for puts a seven-field ``context`` object first in every
call's arguments (:data:`SEVEN_FIELDS`, named ``context7``). That is one convention, not a
law: data without one (plain OpenAI tool calls) uses :data:`NO_CONTEXT`, and a user can
describe their own in a small TOML or JSON file (:func:`load_convention`). Validation
rules, issue detectors, the prompt and the gate follow the convention a run uses.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from .._conventions import CONTEXT_FIELDS, SESSION_ID_RE, WORKSPACE_ID_RE
from ..errors import InputNotFound, InvalidInput, UsageError

__all__ = [
    "CONVENTIONS",
    "ContextConvention",
    "NO_CONTEXT",
    "SEVEN_FIELDS",
    "load_convention",
    "resolve_convention",
]

_KEYS: Final = frozenset({"name", "key", "first", "fields", "patterns", "descriptions"})


@dataclass(frozen=True)
class ContextConvention:
    """A context convention: the argument ``key`` that holds the object (``""``: none),
    its ``fields`` (each required), the ``patterns`` some fields must match in full,
    short ``descriptions`` for the prompt, and whether the object must be the ``first``
    key of the arguments."""

    name: str
    key: str = "context"
    fields: tuple[str, ...] = ()
    patterns: Mapping[str, str] = field(default_factory=dict)
    descriptions: Mapping[str, str] = field(default_factory=dict)
    first: bool = True
    _compiled: Mapping[str, re.Pattern[str]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise UsageError("a context convention needs a non-empty 'name'")
        if not isinstance(self.key, str):
            raise UsageError(f"'key' must be a string, got {self.key!r}")
        fields_ = tuple(self.fields)
        if not all(isinstance(f, str) and f for f in fields_) or len(set(fields_)) < len(fields_):
            raise UsageError(f"'fields' must be distinct non-empty names, got {list(fields_)!r}")
        if fields_ and not self.key:
            raise UsageError("a context convention with 'fields' needs a 'key'")
        for what in ("patterns", "descriptions"):
            extra = sorted(set(getattr(self, what)) - set(fields_))
            if extra:
                raise UsageError(f"{what!r} names field(s) not in 'fields': {extra}")
        compiled: dict[str, re.Pattern[str]] = {}
        for name, pattern in self.patterns.items():
            try:
                compiled[name] = re.compile(pattern)
            except (re.error, TypeError) as exc:
                raise UsageError(
                    f"the pattern of {name!r} is not a regular expression: {exc}"
                ) from None
        object.__setattr__(self, "fields", fields_)
        object.__setattr__(self, "patterns", dict(self.patterns))
        object.__setattr__(self, "descriptions", dict(self.descriptions))
        object.__setattr__(self, "_compiled", compiled)

    @property
    def active(self) -> bool:
        """Whether calls carry a context object at all."""
        return bool(self.key)

    def mismatch(self, name: str, value: object) -> bool:
        """Whether ``value`` breaks the pattern of field ``name`` (no pattern: never)."""
        pattern = self._compiled.get(name)
        return pattern is not None and not (isinstance(value, str) and pattern.fullmatch(value))

    def to_dict(self) -> dict[str, Any]:
        """The convention as the config file writes it (what a run records)."""
        return {
            "name": self.name,
            "key": self.key,
            "first": self.first,
            "fields": list(self.fields),
            "patterns": dict(self.patterns),
            "descriptions": dict(self.descriptions),
        }

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, source: str = "the convention"
    ) -> ContextConvention:
        """A convention from its config mapping; :class:`InvalidInput` naming ``source``
        and the key at fault."""
        unknown = sorted(set(data) - _KEYS)
        if unknown:
            raise InvalidInput(
                f"{source}: unknown key(s) {unknown}; expected some of {sorted(_KEYS)}"
            )
        kinds = {
            "name": str,
            "key": str,
            "first": bool,
            "fields": list,
            "patterns": dict,
            "descriptions": dict,
        }
        for key, kind in kinds.items():
            if key in data and not isinstance(data[key], kind):
                raise InvalidInput(
                    f"{source}: {key!r} must be a {kind.__name__}, got {data[key]!r}"
                )
        for key in ("patterns", "descriptions"):
            bad = [k for k, v in data.get(key, {}).items() if not isinstance(v, str)]
            if bad:
                raise InvalidInput(f"{source}: {key}.{bad[0]} must be a string")
        try:
            return cls(
                name=data.get("name", Path(source).stem),
                key=data.get("key", "context"),
                fields=tuple(data.get("fields", ())),
                patterns=data.get("patterns", {}),
                descriptions=data.get("descriptions", {}),
                first=data.get("first", True),
            )
        except UsageError as exc:
            raise InvalidInput(f"{source}: {exc}") from None


#: The dataset's own convention: seven string fields, ``context`` first in the arguments.
SEVEN_FIELDS: Final = ContextConvention(
    name="context7",
    fields=CONTEXT_FIELDS,
    patterns={"sessionId": SESSION_ID_RE.pattern, "workspaceId": WORKSPACE_ID_RE.pattern},
)
#: No context object: the arguments are the tool's own parameters.
NO_CONTEXT: Final = ContextConvention(name="none", key="")
#: The conventions known by name.
CONVENTIONS: Final = {c.name: c for c in (SEVEN_FIELDS, NO_CONTEXT)}


def load_convention(path: str | os.PathLike[str]) -> ContextConvention:
    """A convention from a ``.toml`` or ``.json`` file (see docs/own-dataset.md)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise InputNotFound(f"context convention file not found: {p}") from None
    try:
        data = tomllib.loads(raw.decode()) if p.suffix == ".toml" else json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:  # TOMLDecodeError and JSONDecodeError too
        raise InvalidInput(
            f"{p}: not valid {'TOML' if p.suffix == '.toml' else 'JSON'}: {exc}"
        ) from None
    if not isinstance(data, dict):
        raise InvalidInput(
            f"{p}: a context convention is an object (a table), got {type(data).__name__}"
        )
    return ContextConvention.from_dict(data, source=str(p))


def resolve_convention(value: object) -> ContextConvention | None:
    """``None`` (detect from the data), a :class:`ContextConvention`, a known name
    (``context7``, ``none``) or a path to a convention file, as a convention."""
    if value is None or isinstance(value, ContextConvention):
        return value
    if isinstance(value, str) and value in CONVENTIONS:
        return CONVENTIONS[value]
    if isinstance(value, str | os.PathLike):
        if isinstance(value, str) and value == "auto":
            return None
        if isinstance(value, str) and not value.endswith((".toml", ".json")):
            raise UsageError(
                f"'context' must be 'auto', {' or '.join(map(repr, CONVENTIONS))}"
                f" or a .toml/.json file, got {value!r}"
            )
        return load_convention(value)
    raise UsageError(f"'context' must be a name, a path or a ContextConvention, got {value!r}")
