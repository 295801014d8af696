"""A scratch SQLite file (:class:`Scratch`): where a pass keeps an index that would
otherwise grow with the rows in memory (the keys seen, the KTO order's rows).

In the run's ``state/`` folder, else a temporary one; no journal and no syncing (it is
rebuilt by every pass); removed when closed. SQLite's page cache (a few megabytes) is all
it holds in memory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Self

__all__ = ["Scratch"]


class Scratch:
    """The scratch file ``name`` in ``folder`` (else a temporary folder): ``db`` is its
    connection (autocommit; ``BEGIN`` where a pass wants one transaction)."""

    def __init__(self, name: str, folder: str | os.PathLike[str] | None = None) -> None:
        self._temp = tempfile.mkdtemp(prefix="syngen-") if folder is None else None
        self.path = Path(self._temp if self._temp is not None else folder or ".") / name
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.unlink(missing_ok=True)  # whatever an earlier pass left goes
        self.db = sqlite3.connect(self.path, isolation_level=None)
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "temp_store = FILE"):
            self.db.execute(f"PRAGMA {pragma}")

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.close()
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
