"""The lines seen so far, by content key, on disk (:class:`SeenKeys`): counting repeated
inputs (and ``dedupe``) takes the same memory for ten lines or ten million (a
:class:`~syngen_improve._scratch.Scratch` file, written in one transaction).
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import Self

from .._scratch import Scratch

__all__ = ["SeenKeys"]


class SeenKeys:
    """Content key -> the first line with that content (a context manager)."""

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self._scratch = Scratch("seen_keys.sqlite3", None if folder is None else Path(folder))
        self.path = self._scratch.path
        self._db = self._scratch.db
        self._db.execute("CREATE TABLE seen (key BLOB PRIMARY KEY, line INTEGER) WITHOUT ROWID")
        self._db.execute("BEGIN")

    def first(self, key: bytes, line: int) -> int:
        """The first line seen with ``key``: ``line`` itself when it is the first."""
        if self._db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?)", (key, line)).rowcount:
            return line
        row = self._db.execute("SELECT line FROM seen WHERE key = ?", (key,)).fetchone()
        return int(row[0])

    def close(self) -> None:
        self._scratch.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
