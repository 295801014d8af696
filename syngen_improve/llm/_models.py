"""What the library knows of each model beyond its price: the shortest prompt prefix the
API will cache.

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
    "by_alias",
    "cache_floor",
    "estimated_tokens",
]

T = TypeVar("T")

#: The floor assumed for a model whose minimum cacheable length is not documented.
DEFAULT_CACHE_FLOOR: Final = 4096
#: Documented minimum cacheable prefixes, in tokens.
CACHE_FLOORS: Final[dict[str, int]] = {"claude-haiku-4-5": 4096}
#: How far above the floor a prefix is built (estimated tokens / floor).
CACHE_MARGIN: Final = 1.2


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
