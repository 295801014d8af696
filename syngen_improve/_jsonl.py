"""Streaming JSONL reading and whole-line appending.

The reader never holds more than one line in memory and never stops at a bad
line: it yields a :class:`Malformed` record (line number, error, raw bytes) and
goes on. The writer guarantees that every record reaches the file as one whole
line, so a crash can never leave a half record that a later read takes for data.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson

from .errors import InvalidInput

__all__ = [
    "JsonlWriter",
    "Malformed",
    "Record",
    "read_jsonl",
    "read_records",
    "repair_torn_tail",
    "replace_bytes",
    "write_jsonl_atomic",
]

_BOM = b"\xef\xbb\xbf"
_RAW_PREVIEW = 200


@dataclass(frozen=True, slots=True)
class Record:
    """A JSON object read from ``line`` (1-based) of a JSONL file."""

    line: int
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Malformed:
    """A line that is not a JSON object: where, why, and the bytes as read."""

    line: int
    error: str
    raw: bytes

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe summary (the raw bytes shortened and decoded with replacement)."""
        preview = self.raw[:_RAW_PREVIEW].decode("utf-8", errors="replace")
        return {"line": self.line, "error": self.error, "raw": preview}


def _decode(line_no: int, raw: bytes) -> Record | Malformed:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return Malformed(line_no, str(exc), raw.rstrip(b"\r\n"))
    if not isinstance(data, dict):
        kind = type(data).__name__
        return Malformed(line_no, f"expected a JSON object, got {kind}", raw.rstrip(b"\r\n"))
    return Record(line_no, data)


def _line_item(line_no: int, raw: bytes, *, first: bool) -> Record | Malformed | None:
    """Decode one raw line (BOM stripped on the file's first line); ``None`` if blank."""
    if first and raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
    return _decode(line_no, raw) if raw.strip() else None


def read_jsonl(path: str | os.PathLike[str]) -> Iterator[Record | Malformed]:
    """Yield each non-blank line of ``path`` as a :class:`Record` or :class:`Malformed`.

    Handles a UTF-8 BOM, CRLF line ends, blank lines (skipped, but counted in the
    line numbers), a last line without newline, invalid UTF-8 (reported as
    malformed) and lines of any length. Memory use is one line at a time. A device
    (``/dev/zero``, a state file linked to one) is refused: it would be read forever.
    """
    with open(path, "rb") as fh:
        mode = os.fstat(fh.fileno()).st_mode
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            raise InvalidInput(f"{os.fspath(path)} is a device, not a file: it cannot be read")
        for line_no, raw in enumerate(fh, start=1):
            item = _line_item(line_no, raw, first=line_no == 1)
            if item is not None:
                yield item


def read_records(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """The objects of ``path``'s readable lines, for files this library wrote itself:
    malformed lines are skipped and a missing file reads as empty."""
    if os.path.exists(path):
        for item in read_jsonl(path):
            if isinstance(item, Record):
                yield item.data


def repair_torn_tail(path: str | os.PathLike[str]) -> int:
    """Make the file end with a whole line before appending to it.

    A last line without its newline is either a record cut short by a crash (a strict
    prefix of a JSON object never decodes as one), which is cut back to the last newline,
    or a complete record whose newline an editor dropped, which is kept and given its
    newline. Returns the number of bytes removed.
    """
    p = Path(path)
    if not p.exists():
        return 0
    size = p.stat().st_size
    if size == 0:
        return 0
    with open(p, "r+b") as fh:
        fh.seek(size - 1)
        if fh.read(1) == b"\n":
            return 0
        # Scan backwards in blocks for the last newline.
        block = 64 * 1024
        end = size
        keep = 0
        while end > 0:
            start = max(0, end - block)
            fh.seek(start)
            chunk = fh.read(end - start)
            idx = chunk.rfind(b"\n")
            if idx >= 0:
                keep = start + idx + 1
                break
            end = start
        fh.seek(keep)
        if isinstance(_decode(0, fh.read()), Record):
            fh.write(b"\n")  # the read left the position at the end
            return 0
        fh.truncate(keep)
        return size - keep


class JsonlWriter:
    """Append JSON objects to a file, one whole line per record.

    Flush policy: every :meth:`write` / :meth:`write_many` call hands complete
    lines to the operating system in a single unbuffered ``write`` (no Python
    buffer), so a killed process never leaves a half line and other readers see
    each record as soon as the call returns. ``fsync=True`` additionally forces
    the data to disk after every call (survives power loss; much slower). On
    open, a torn tail left by an earlier crash is cut back to the last newline.
    """

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        repair_torn_tail(self.path)
        self._fsync = fsync
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.count = 0

    def write(self, record: Mapping[str, Any]) -> None:
        """Append one record as one line."""
        self._write_bytes(orjson.dumps(record) + b"\n")
        self.count += 1

    def write_many(self, records: Iterable[Mapping[str, Any] | bytes]) -> None:
        """Append several records with one system call (``bytes``: one JSON line, already
        encoded, without its newline)."""
        lines = [r if isinstance(r, bytes) else orjson.dumps(r) for r in records]
        if lines:
            self._write_bytes(b"\n".join(lines) + b"\n")
            self.count += len(lines)

    def _write_bytes(self, payload: bytes) -> None:
        if self._fd is None:
            raise ValueError(f"I/O operation on closed JsonlWriter({str(self.path)!r})")
        view = memoryview(payload)
        try:
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            if self._fsync:
                os.fsync(self._fd)
        except OSError as exc:
            raise named(exc, self.path) from None

    def close(self) -> None:
        """Close the file; safe to call twice."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _temp_beside(path: str | os.PathLike[str]) -> Path:
    target = Path(path)
    return target.with_name(target.name + ".tmp")


def replace_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path``'s content whole: written beside it, then renamed over it."""
    tmp = _temp_beside(path)
    try:
        tmp.write_bytes(data)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise named(exc, path) from None
    tmp.replace(path)


def named(exc: OSError, path: str | os.PathLike[str]) -> OSError:
    """``exc`` naming ``path`` when it names no file (a write on an open descriptor: disk
    full says only "No space left on device")."""
    if exc.filename is not None:
        return exc
    return type(exc)(exc.errno, exc.strerror or str(exc), os.fspath(path))


def write_jsonl_atomic(
    path: str | os.PathLike[str],
    records: Iterable[Mapping[str, Any] | bytes],
    *,
    batch: int = 512,
) -> int:
    """Write ``records`` (consumed lazily, ``batch`` lines per system call) to a file
    beside ``path`` and rename it over ``path`` once all are written, so a reader never
    sees half a file; if producing the records fails, the partial file is removed.
    Returns the number written."""
    tmp = _temp_beside(path)
    tmp.unlink(missing_ok=True)
    try:
        with JsonlWriter(tmp) as writer:
            chunk: list[Mapping[str, Any] | bytes] = []
            for record in records:
                chunk.append(record)
                if len(chunk) >= batch:
                    writer.write_many(chunk)
                    chunk.clear()
            writer.write_many(chunk)
            written = writer.count
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)
    return written
