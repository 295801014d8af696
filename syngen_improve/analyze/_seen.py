"""The lines seen so far, by content key, on disk (:class:`SeenKeys`): counting repeated
inputs (and ``dedupe``) takes the same memory for ten lines or ten million (a
:class:`~syngen_improve._scratch.Scratch` file, written in one transaction).
"""

from __future__ import annotations

import os

from .._scratch import Scratch

__all__ = ["SeenKeys"]


class SeenKeys(Scratch):
    """Content key -> the first line with that content (a context manager)."""

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        super().__init__("seen_keys.sqlite3", folder)
        self.db.execute("CREATE TABLE seen (key BLOB PRIMARY KEY, line INTEGER) WITHOUT ROWID")
        self.db.execute("BEGIN")

    def first(self, key: bytes, line: int) -> int:
        """The first line seen with ``key``: ``line`` itself when it is the first."""
        if self.db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?)", (key, line)).rowcount:
            return line
        row = self.db.execute("SELECT line FROM seen WHERE key = ?", (key,)).fetchone()
        return int(row[0])
