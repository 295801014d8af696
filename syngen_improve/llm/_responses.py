"""Answers kept across runs (:class:`ResponseCache`): a request sent before, to the same
API with the same body, is answered from disk, at no cost and without a request.

Content-addressed: the key is the SHA-256 of the backend's ``cache_scope`` (the API and
base URL it speaks to; the fake's knobs) and the digest of the request body as it is sent
(model, system prompt, messages, tools, thinking, effort, ``max_tokens``). Only complete
answers are kept (``end_turn``, ``tool_use``, ``stop_sequence``): never a refusal, an
answer cut at ``max_tokens``, an error or a transport failure. An answer the gate rejects
is kept like any other: the re-ask carries the errors, so it is another request.

One SQLite file (standard library) in WAL mode: several processes share a folder, each
entry is written in one transaction and checked when read (an entry that does not decode
is dropped and asked again). The file is bounded: past ``max_bytes`` the entries used
least recently go first. See docs/cache.md.
"""

from __future__ import annotations

import contextvars
import hashlib
import os
import sqlite3
import sys
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

import orjson

from ._backend import Backend, Reply
from ._pricing import Usage

__all__ = ["FRESH", "ResponseCache", "default_cache_dir", "fresh_answers"]

#: The default bound of the cache file.
DEFAULT_MAX_BYTES: Final = 4 * 2**30
#: Stop reasons of a complete answer (the only ones kept).
COMPLETE: Final = frozenset({"end_turn", "tool_use", "stop_sequence"})
_FILE: Final = "responses.sqlite3"
_FORMAT: Final = 1
#: Hits whose use time is written together (one transaction); a use time is only written
#: again once it is this many seconds old (eviction needs no finer clock, and a repeated
#: run then reads without writing); the share of the bound an eviction frees down to.
_TOUCH_BATCH: Final = 512
_TOUCH_AFTER: Final = 3600.0
_EVICT_TO: Final = 0.9
_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS answers (key BLOB PRIMARY KEY, value BLOB NOT NULL, "
    "size INTEGER NOT NULL, used REAL NOT NULL) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS answers_by_use ON answers (used)",
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    "INSERT OR IGNORE INTO meta VALUES ('format', 1), ('bytes', 0)",
)

#: True while the current task's requests must be sent whatever the cache holds
#: (``--retry-failed``: a failure is asked again, never replayed).
FRESH: contextvars.ContextVar[bool] = contextvars.ContextVar("syngen_fresh", default=False)


@contextmanager
def fresh_answers(fresh: bool = True) -> Iterator[None]:
    """Within the block, this task's requests are sent, not read from the cache (their
    answers are still kept); ``fresh=False`` leaves an enclosing block's choice as it is."""
    token = FRESH.set(fresh or FRESH.get())
    try:
        yield
    finally:
        FRESH.reset(token)


def default_cache_dir() -> Path:
    """``$SYNGEN_IMPROVE_CACHE_DIR``, else ``$XDG_CACHE_HOME/syngen_improve``, else the
    platform's user cache folder (``~/.cache``, ``~/Library/Caches``, ``%LOCALAPPDATA%``)."""
    if env := os.environ.get("SYNGEN_IMPROVE_CACHE_DIR"):
        return Path(env)
    if xdg := os.environ.get("XDG_CACHE_HOME"):
        return Path(xdg) / "syngen_improve"
    home = Path.home()
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        return (Path(local) if local else home / "AppData" / "Local") / "syngen_improve"
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "syngen_improve"
    return home / ".cache" / "syngen_improve"


def _encode(reply: Reply) -> bytes:
    u = reply.usage
    data = {
        "format": _FORMAT,
        "content": reply.content,
        "usage": [u.input, u.output, u.cache_read, u.cache_creation],
        "model": reply.model,
        "stop_reason": reply.stop_reason,
    }
    return zlib.compress(orjson.dumps(data), 1)


def _decode(value: bytes) -> Reply | None:
    """The reply of an entry, or ``None`` for one that does not decode as ours."""
    try:
        data = orjson.loads(zlib.decompress(value))
        content, usage = data["content"], data["usage"]
        ok = data["format"] == _FORMAT and isinstance(content, list)
        ok = ok and all(isinstance(b, dict) and isinstance(b.get("type"), str) for b in content)
        if not ok or data["stop_reason"] not in COMPLETE:
            return None
        return Reply(
            content=content,
            usage=Usage(*(int(n) for n in usage)),
            model=str(data["model"]),
            stop_reason=data["stop_reason"],
        )
    except (zlib.error, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


class ResponseCache:
    """The answers of earlier requests, in ``folder`` (see the module docstring).

    A context manager (sync or async): the file is opened on entry and closed on exit.
    ``get`` / ``put`` take the key of :meth:`key`; both are quick (an indexed read, one
    short transaction), so they run on the event loop.
    """

    def __init__(self, folder: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES):
        if max_bytes < 1:
            raise ValueError(f"'max_bytes' must be >= 1, got {max_bytes}")
        self.folder = Path(folder)
        self.path = self.folder / _FILE
        self.max_bytes = max_bytes
        self.hits = 0
        self.stored = 0
        self._db: sqlite3.Connection | None = None
        self._touched: list[bytes] = []

    @staticmethod
    def key(scope: str, body: bytes) -> bytes:
        """The key of a request sent to ``scope``: ``body`` is the request's body, or its
        digest (:meth:`~syngen_improve.llm.Request.digest`, what the engine uses)."""
        return hashlib.sha256(scope.encode() + b"\n" + body).digest()

    @staticmethod
    def scope_of(backend: Backend) -> str | None:
        """The backend's ``cache_scope`` (``None``: its answers are not cached)."""
        scope = getattr(backend, "cache_scope", None)
        return scope if isinstance(scope, str) and scope else None

    def open(self) -> Self:
        """Create the folder and the file if needed; an error says which file failed."""
        self.folder.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            db.execute("PRAGMA busy_timeout = 60000")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            with _transaction(db):
                for statement in _SCHEMA:
                    db.execute(statement)
                (found,) = db.execute("SELECT value FROM meta WHERE name = 'format'").fetchone()
            if found != _FORMAT:
                raise sqlite3.DatabaseError(f"format {found}, not {_FORMAT}")
        except BaseException:
            db.close()
            raise
        self._db = db
        return self

    def get(self, key: bytes) -> Reply | None:
        """The answer kept under ``key``, or ``None``."""
        db = self._open_db()
        row = db.execute("SELECT value, used FROM answers WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        reply = _decode(row[0])
        if reply is None:  # not ours, or damaged: asked again, and replaced
            self._delete(db, key)
            return None
        self.hits += 1
        if time.time() - row[1] > _TOUCH_AFTER:
            self._touched.append(key)
            if len(self._touched) >= _TOUCH_BATCH:
                self._touch(db)
        return reply

    def put(self, key: bytes, reply: Reply) -> bool:
        """Keep ``reply`` under ``key`` if it is complete; True when it was kept."""
        if reply.stop_reason not in COMPLETE:
            return False
        value = _encode(reply)
        db = self._open_db()
        with _transaction(db):
            old = db.execute("SELECT size FROM answers WHERE key = ?", (key,)).fetchone()
            db.execute(
                "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?)",
                (key, value, len(value), time.time()),
            )
            grown = len(value) - (old[0] if old else 0)
            total = db.execute(
                "UPDATE meta SET value = value + ? WHERE name = 'bytes' RETURNING value",
                (grown,),
            ).fetchone()[0]
            if total > self.max_bytes:
                self._evict(db, total)
        self.stored += 1
        return True

    def _evict(self, db: sqlite3.Connection, total: int) -> None:
        """Drop the entries used least recently until the file is under the bound's
        :data:`_EVICT_TO` share (inside the caller's transaction)."""
        target = int(self.max_bytes * _EVICT_TO)
        freed = 0
        doomed: list[bytes] = []
        for key, size in db.execute("SELECT key, size FROM answers ORDER BY used"):
            if total - freed <= target:
                break
            doomed.append(key)
            freed += size
        db.executemany("DELETE FROM answers WHERE key = ?", [(k,) for k in doomed])
        db.execute("UPDATE meta SET value = value - ? WHERE name = 'bytes'", (freed,))

    def _delete(self, db: sqlite3.Connection, key: bytes) -> None:
        with _transaction(db):
            row = db.execute("DELETE FROM answers WHERE key = ? RETURNING size", (key,)).fetchone()
            if row is not None:
                db.execute("UPDATE meta SET value = value - ? WHERE name = 'bytes'", (row[0],))

    def _touch(self, db: sqlite3.Connection) -> None:
        """Write the use time of the entries read since the last time."""
        keys, self._touched = self._touched, []
        now = time.time()
        with _transaction(db):
            db.executemany("UPDATE answers SET used = ? WHERE key = ?", [(now, k) for k in keys])

    def _open_db(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the response cache is not open (use it as a context manager)")
        return self._db

    def entries(self) -> int:
        """How many answers the file holds."""
        return int(self._open_db().execute("SELECT COUNT(*) FROM answers").fetchone()[0])

    def close(self) -> None:
        db, self._db = self._db, None
        if db is None:
            return
        try:
            if self._touched:
                self._touch(db)
        finally:
            db.close()

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[Any]:
    """One write transaction, taken at once (``BEGIN IMMEDIATE``: another process's
    writer is waited for, never deadlocked with)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
