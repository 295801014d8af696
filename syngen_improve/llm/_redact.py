"""Keeping the API key out of every message, file and stream.

A server, proxy or SDK may echo the key, or a piece of it, in an error body, a header
or an exception. :class:`Redactor` replaces any run of 8 or more characters that also
occurs in the key (compared case-insensitively) with ``[redacted]``, so a key cut short
by a few characters, re-cased or embedded in a request id is caught too. Texts taken
from a server are also cut to a bounded length: never stored or printed whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

__all__ = ["MIN_PIECE", "Redactor"]

#: The shortest piece of a key that counts as a leak.
MIN_PIECE: Final = 8
_MARK: Final = "[redacted]"


class Redactor:
    """Redacts pieces of ``secret`` (and of each of ``more``: a gateway's key in a header
    of its own) from texts (a no-op without a secret)."""

    def __init__(self, secret: str | None, more: Iterable[str] = ()) -> None:
        grams: set[str] = set()
        for one in (secret or "", *more):
            lowered = one.lower()
            grams.update(lowered[i : i + MIN_PIECE] for i in range(len(lowered) - MIN_PIECE + 1))
        self._grams = frozenset(grams)

    def __call__(self, text: str, *, limit: int = 2000) -> str:
        """``text`` cut to ``limit`` characters, with every piece of the key replaced."""
        if len(text) > limit:
            text = text[:limit] + "..."
        if not self._grams or len(text) < MIN_PIECE:
            return text
        lowered = text.lower()
        spans: list[list[int]] = []
        for i in range(len(lowered) - MIN_PIECE + 1):
            if lowered[i : i + MIN_PIECE] in self._grams:
                if spans and i <= spans[-1][1]:
                    spans[-1][1] = i + MIN_PIECE
                else:
                    spans.append([i, i + MIN_PIECE])
        if not spans:
            return text
        out, last = [], 0
        for start, end in spans:
            out += [text[last:start], _MARK]
            last = end
        out.append(text[last:])
        return "".join(out)

    def optional(self, text: object, *, limit: int = 200) -> str | None:
        """A header or field from a server, redacted and cut; ``None`` stays ``None``."""
        return None if text is None else self(str(text), limit=limit)
