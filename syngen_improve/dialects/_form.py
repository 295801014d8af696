"""The form of one input row: how it writes its entries (read off the row itself)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ._conversation import decoded
from ._detect import Dialect
from ._tagged import ROLE_OF

__all__ = ["Form", "TAG_RE", "form_of"]

_RESULT_KINDS: Final = frozenset({"tool", "observation", "function"})
TAG_RE: Final = re.compile(r"<(tool_call|tool_response)>(.*?)</\1>", re.S)
_DEFAULT_NAMES: Final[Mapping[str, Mapping[str, str]]] = {
    "openai": {},
    "sharegpt": {"user": "human", "assistant": "gpt", "tool": "observation"},
    "hermes": {},
}


@dataclass(frozen=True, slots=True)
class Form:
    """How one input row writes its entries."""

    dialect: Dialect
    container: str
    keys: tuple[str, str]  # the role key and the content key
    names: Mapping[str, str]  # our kind (user, assistant, system, tool, ...) -> the row's
    inside: str  # Hermes: what goes between a tag and its JSON
    wrapped: bool  # Hermes: results written as {"name", "content"}

    def entry(self, written: Mapping[str, Any]) -> dict[str, Any]:
        """A writer's entry with the row's key and role names."""
        role_key, content_key = self.keys
        kind = written.get("role", written.get("from"))
        ours = _canonical(kind) if isinstance(kind, str) else None
        name = self.names.get(ours, kind) if ours is not None else kind
        out: dict[str, Any] = {role_key: name}
        for key, value in written.items():
            if key in ("role", "from"):
                continue
            out[content_key if key in ("content", "value") else key] = value
        return out


def _canonical(kind: str) -> str:
    lowered = kind.lower()
    if lowered in _RESULT_KINDS:
        return "tool"
    return ROLE_OF.get(lowered, lowered)


def form_of(row: Mapping[str, Any], items: Sequence[Any], dialect: Dialect) -> Form:
    container = (
        "messages" if dialect == "openai" or not row.get("conversations") else ("conversations")
    )
    uses_from = dialect != "openai" and any(isinstance(e, Mapping) and "from" in e for e in items)
    names = dict(_DEFAULT_NAMES[dialect])
    for item in items:
        kind = item.get("from", item.get("role")) if isinstance(item, Mapping) else None
        if isinstance(kind, str):
            names.setdefault(_canonical(kind), kind)
    texts = [str(e.get("value", e.get("content", ""))) for e in items if isinstance(e, Mapping)]
    joined = "\n".join(texts)
    responses = [
        decoded(m.group(2).strip())
        for m in TAG_RE.finditer(joined)
        if m.group(1) == "tool_response"
    ]
    return Form(
        dialect=dialect,
        container=container,
        keys=("from", "value") if uses_from else ("role", "content"),
        names=names,
        inside="" if "<tool_call>" in joined and "<tool_call>\n" not in joined else "\n",
        wrapped=not responses
        or any(isinstance(r, Mapping) and set(r) == {"name", "content"} for r in responses),
    )
