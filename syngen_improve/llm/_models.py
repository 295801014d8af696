"""What the library knows of each model beyond its price: the shortest prompt prefix the
API will cache, and whether it takes strict tool use.

The API caches nothing below a model's minimum cacheable length, and says nothing about
it: both cache counters simply stay 0. The figures here are the documented ones; a model
without one (the default model included) is taken at :data:`DEFAULT_CACHE_FLOOR`, and a
prompt is built to clear the floor with :data:`CACHE_MARGIN` to spare, counted as
characters / 4 (a real tokenizer counts differently).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, TypeVar

__all__ = [
    "CACHE_FLOORS",
    "CACHE_MARGIN",
    "DEFAULT_CACHE_FLOOR",
    "STRICT_MAX_OPTIONAL",
    "STRICT_MAX_UNIONS",
    "STRICT_TOOL_MODELS",
    "by_alias",
    "cache_floor",
    "estimated_tokens",
    "strict_tools_supported",
]

T = TypeVar("T")

#: The floor assumed for a model whose minimum cacheable length is not documented.
DEFAULT_CACHE_FLOOR: Final = 4096
#: Documented minimum cacheable prefixes, in tokens.
CACHE_FLOORS: Final[dict[str, int]] = {"claude-haiku-4-5": 4096}
#: How far above the floor a prefix is built (estimated tokens / floor).
CACHE_MARGIN: Final = 1.2

#: Models documented to take strict tool use (``strict: true``: tool input constrained to
#: its schema). Any other model is asked without it unless the run insists.
STRICT_TOOL_MODELS: Final = frozenset({
    "claude-haiku-4-5", "claude-sonnet-4-5", "claude-opus-4-5", "claude-sonnet-4-6",
    "claude-opus-4-6",
})  # fmt: skip
#: Documented limits over a request's strict tools: optional properties, and properties
#: whose type is a union (``anyOf`` or a list of types).
STRICT_MAX_OPTIONAL: Final = 24
STRICT_MAX_UNIONS: Final = 16


def by_alias(model: str, table: Mapping[str, T]) -> T | None:
    """``table``'s entry for a model id; a dated id (``claude-haiku-4-5-20251001``)
    matches its alias. ``None`` when the table has neither."""
    if model in table:
        return table[model]
    for alias, value in table.items():
        if model.startswith(alias + "-") and model[len(alias) + 1 :].isdigit():
            return value
    return None


def cache_floor(model: str) -> tuple[int, bool]:
    """The model's minimum cacheable prefix in tokens, and whether it is documented
    (``False``: :data:`DEFAULT_CACHE_FLOOR` is assumed)."""
    floor = by_alias(model, CACHE_FLOORS)
    return (floor, True) if floor is not None else (DEFAULT_CACHE_FLOOR, False)


def estimated_tokens(chars: int) -> int:
    """A token count from a character count (4 characters a token)."""
    return -(-chars // 4)


def strict_tools_supported(model: str) -> bool:
    """Whether ``model`` is documented to take strict tool use."""
    return by_alias(model, dict.fromkeys(STRICT_TOOL_MODELS, True)) is not None
