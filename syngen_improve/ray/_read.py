"""A JSONL file as a Ray Dataset of its lines, bytes as read and numbered as the
single-process run numbers them, so a Ray run's records name the same input lines."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import ray.data

from .._input import check_input
from .._jsonl import Malformed, Record, _line_item
from ..errors import UsageError

__all__ = ["LINES", "item_of", "read_jsonl"]

#: The schema of a dataset of input lines: the 1-based line number and its bytes.
LINES = pa.schema([("line", pa.int64()), ("raw", pa.binary())])
_PIECE = 1 << 20


def item_of(line: Any, raw: Any) -> Record | Malformed | None:
    """One row of a dataset of lines read as the file reader reads a line (``raw``: bytes,
    or text); ``None`` for a blank line."""
    data = raw.encode() if isinstance(raw, str) else bytes(raw)
    return _line_item(int(line), data, first=int(line) == 1)


def _chunks(path: Path, block_bytes: int) -> list[dict[str, Any]]:
    """Byte ranges of about ``block_bytes`` that end at a line's end, each with the number
    of its first line (one pass over the file, counting newlines)."""
    chunks: list[dict[str, Any]] = []
    start, first, lines, at = 0, 1, 0, 0
    with open(path, "rb") as fh:
        while piece := fh.read(_PIECE):
            at += len(piece)
            lines += piece.count(b"\n")
            if at - start < block_bytes:
                continue
            end = piece.rfind(b"\n")
            if end < 0:
                continue
            cut = at - len(piece) + end + 1
            chunks.append({"path": str(path), "start": start, "end": cut, "first": first})
            start, first = cut, lines + 1  # the piece's last newline ends the range
    if at > start or not chunks:
        chunks.append({"path": str(path), "start": start, "end": at, "first": first})
    return chunks


def _lines(batch: dict[str, Any]) -> pa.Table:
    """The lines of one byte range (a ``map_batches`` function, one range a batch)."""
    numbers: list[int] = []
    raws: list[bytes] = []
    for path, start, end, first in zip(
        batch["path"], batch["start"], batch["end"], batch["first"], strict=True
    ):
        with open(path, "rb") as fh:
            fh.seek(int(start))
            data = fh.read(int(end) - int(start))
        # Lines end at b"\n" only, as a file read line by line ends them.
        pieces = data.split(b"\n")
        for n, piece in enumerate(pieces, int(first)):
            last = n - int(first) == len(pieces) - 1
            if last and not piece:
                break
            numbers.append(n)
            raws.append(piece if last else piece + b"\n")
    columns = [pa.array(numbers, pa.int64()), pa.array(raws, pa.binary())]
    return pa.Table.from_arrays(columns, schema=LINES)


def read_jsonl(path: str | os.PathLike[str], *, block_bytes: int = 4 << 20) -> ray.data.Dataset:
    """The lines of the JSONL file ``path`` as a Dataset of ``line`` (1-based) and
    ``raw`` (the line's bytes, its end included), read by the workers in ranges of about
    ``block_bytes`` (default: a sixteenth of the file, from 64 KiB to 4 MiB, so that
    several workers have blocks to take): the file must be at the same path on every node
    (shared storage). The driver reads it once to find where lines end."""
    source = check_input(Path(path)).resolve()
    if block_bytes is None:
        block_bytes = max(64 << 10, min(4 << 20, source.stat().st_size // 16))
    if block_bytes < 1:
        raise UsageError(f"'block_bytes' must be >= 1, got {block_bytes}")
    chunks = _chunks(source, block_bytes)
    return ray.data.from_items(chunks, override_num_blocks=len(chunks)).map_batches(
        _lines, batch_size=1, batch_format="numpy", num_cpus=0.25
    )
