"""The lines seen so far, by content key, on disk (:class:`SeenKeys`): counting repeated
inputs (and ``dedupe``) takes the same memory for ten lines or ten million.

A SQLite file in a spill folder (the run's ``state/``, else a temporary folder), written
without a journal in one transaction: it is scratch, rebuilt by every pass over the input,
and SQLite's page cache (a few megabytes) is all it holds in memory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Final, Self

__all__ = ["SeenKeys"]

_FILE: Final = "seen_keys.sqlite3"


class SeenKeys:
    """Content key -> the first line with that content (a context manager)."""

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self._temp = None if folder is not None else tempfile.mkdtemp(prefix="syngen-seen-")
        self.path = Path(folder if folder is not None else self._temp or "") / _FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.unlink(missing_ok=True)  # scratch: whatever an earlier pass left goes
        self._db = sqlite3.connect(self.path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode = OFF")
        self._db.execute("PRAGMA synchronous = OFF")
        self._db.execute("CREATE TABLE seen (key BLOB PRIMARY KEY, line INTEGER) WITHOUT ROWID")
        self._db.execute("BEGIN")

    def first(self, key: bytes, line: int) -> int:
        """The first line seen with ``key``: ``line`` itself when it is the first."""
        if self._db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?)", (key, line)).rowcount:
            return line
        row = self._db.execute("SELECT line FROM seen WHERE key = ?", (key,)).fetchone()
        return int(row[0])

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
        if self._temp is not None:
            shutil.rmtree(self._temp, ignore_errors=True)
        else:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
