"""The input file, checked before it is read: what it is when it is not a JSONL file.

Every stage reads JSONL: one JSON object per line, UTF-8. A path that is a directory, a
device (``/dev/zero`` would be read forever) or missing is refused saying which; a file
whose first bytes say it cannot be JSONL text (gzip, zip, Parquet, UTF-16 or UTF-32) is
refused naming what it looks like; and when no line of a file is a JSON object, the
message says what the file looks like instead (CSV, a JSON array, one object over many
lines) and how to convert it.
"""

from __future__ import annotations

import os
import shlex
import stat
from pathlib import Path
from typing import Final

import orjson

from .errors import InputNotFound, InvalidInput

__all__ = ["check_input", "looks_like", "not_jsonl"]

_HEAD: Final = 64 * 1024
_EXPECTED: Final = "expected JSONL, one JSON object per line (UTF-8)"
#: (first bytes, what the file is, what to do), the longer marks first.
_MAGIC: Final = (
    (b"\xff\xfe\x00\x00", "text in UTF-32", "save it as UTF-8"),
    (b"\x00\x00\xfe\xff", "text in UTF-32", "save it as UTF-8"),
    (b"\xff\xfe", "text in UTF-16", "save it as UTF-8 (iconv -f UTF-16 -t UTF-8)"),
    (b"\xfe\xff", "text in UTF-16", "save it as UTF-8 (iconv -f UTF-16 -t UTF-8)"),
    (b"\x1f\x8b", "a gzip file", "decompress it first (gunzip -k)"),
    (b"PK\x03\x04", "a zip archive", "extract the JSONL file from it"),
    (b"PAR1", "a Parquet file", "export it as JSONL"),
)
_KINDS: Final = (
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a pipe"),
    (stat.S_ISSOCK, "a socket"),
)


def check_input(path: str | os.PathLike[str], *, what: str = "input file") -> Path:
    """``path`` when it is a regular file that can hold JSONL text; else
    :class:`InputNotFound` (missing, a directory) or :class:`InvalidInput` (a device, a
    pipe, a binary or UTF-16 file) saying what it is."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputNotFound(f"{what} not found: {path}") from None
    except OSError as exc:
        raise InputNotFound(f"{what} {path} cannot be read: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputNotFound(f"{what} {path} is a directory, not a file: give a JSONL file")
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a file")
        raise InvalidInput(f"{what} {path} is not a regular file ({kind}): give a JSONL file")
    try:
        with path.open("rb") as fh:
            head = fh.read(_HEAD)
    except OSError as exc:
        raise InputNotFound(f"{what} {path} cannot be read: {exc.strerror}") from None
    binary = _binary(head)
    if binary is not None:
        raise InvalidInput(f"{path}: {_EXPECTED}; this is {binary}")
    return path


def _binary(head: bytes) -> str | None:
    """What the first bytes say the file is, when it cannot be UTF-8 text."""
    for mark, kind, todo in _MAGIC:
        if head.startswith(mark):
            return f"{kind}: {todo}"
    sample = head[:512]
    if sample and sample.count(0) * 4 >= len(sample):  # UTF-16 without a byte order mark
        return "text in UTF-16 (no byte order mark): save it as UTF-8 (iconv -f UTF-16 -t UTF-8)"
    return None


def looks_like(path: Path) -> str | None:
    """What a file none of whose lines is a JSON object looks like (CSV, TSV, a JSON array,
    one JSON object over many lines), with the command that converts it; ``None`` when
    it looks like nothing in particular."""
    try:
        with path.open("rb") as fh:
            head = fh.read(_HEAD)
    except OSError:
        return None
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    first = text.split("\n", 1)[0].strip()
    given, out = shlex.quote(str(path)), shlex.quote(str(path.with_suffix(".jsonl")))
    if text.startswith("["):
        return f"a JSON array: write one object per line (jq -c '.[]' {given} > {out})"
    if text.startswith("{") and not _is_object(first):
        return (
            "one JSON object over many lines (pretty-printed): write one per line "
            f"(jq -c . {given} > {out})"
        )
    for sep, name in (("\t", "TSV"), (",", "CSV"), (";", "CSV")):
        if first.count(sep) >= 1 and not first.startswith("{"):
            return f"{name} (a header line: {first[:60]!r}): export it as JSONL"
    return None


def not_jsonl(path: Path, detail: str) -> str:
    """The message for a file whose lines hold no JSON object: ``detail``, then what it
    looks like when that can be told."""
    looks = looks_like(path)
    return f"{path}: {detail}; {_EXPECTED}" + (f"; this looks like {looks}" if looks else "")


def _is_object(line: str) -> bool:
    try:
        return isinstance(orjson.loads(line), dict)
    except orjson.JSONDecodeError:
        return False
