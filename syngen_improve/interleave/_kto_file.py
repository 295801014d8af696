"""The ``kto`` order of two whole files (:func:`kto_records`), in memory that does not grow
with the files.

The order is :mod:`._arrange`'s, placed by :mod:`._kto_place` (a label plan spreading the
majority evenly; each slot takes the row of its label, among the next
:data:`~._kto_place.LOOKAHEAD`, whose prompt is clear of the last ``gap`` rows and has the
most rows still to place; originals queued in their improvements' order, rotated by about
``gap / 2``). What that needs of every row (side, byte offset,
prompt hash, ``_source_line``, how many rows share its prompt) is kept in a scratch file
(:class:`~syngen_improve._scratch.Scratch`: the run's ``state/``, else a temporary
folder), and the four queues (paired and unpaired rows of each side) are read from it in
order: memory holds the queues' next rows, the prompts still being placed, and SQLite's
page cache. A shuffle seed (the
``interleave`` command's) adds a permutation of 8 bytes a row.
"""

from __future__ import annotations

import os
import random
import sqlite3
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import orjson

from .._scratch import Scratch
from ._arrange import prompt_key
from ._kto_place import Row, placed

__all__ = ["kto_records"]

_FILE: Final = "kto_order.sqlite3"
_SIGN: Final = 1 << 63  # prompt hashes are unsigned 64-bit, SQLite integers signed
_COLUMNS: Final = "r.side, r.offset, r.prompt, r.source, r.labelled, t.n"


def _lines(path: Path, side: int) -> Iterator[tuple[int, int, int | None, int | str | None, bool]]:
    """``(side, offset, prompt, source, labelled)`` of every JSON object line."""
    with open(path, "rb") as fh:
        offset = 0
        for raw in fh:
            if raw.strip():
                try:
                    record = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    record = None
                if isinstance(record, dict):
                    source = record.get("_source_line")
                    source = source if isinstance(source, int) and source is not True else None
                    if source is not None and not -_SIGN <= source < _SIGN:
                        source = str(source)  # past SQLite's integers: pairs by its digits
                    prompt = prompt_key(record)
                    stored = None if prompt is None else prompt - _SIGN
                    yield side, offset, stored, source, record.get("label") is (side == 0)
            offset += len(raw)


class _Store(Scratch):
    """The rows of both files in a scratch SQLite file (closed and removed by ``close``)."""

    def __init__(self, spill: str | os.PathLike[str] | None) -> None:
        super().__init__("kto_order.sqlite3", spill)
        self.db.execute(
            "CREATE TABLE rows (side INTEGER, seq INTEGER, offset INTEGER, prompt INTEGER, "
            "source INTEGER, labelled INTEGER, PRIMARY KEY (side, seq)) WITHOUT ROWID"
        )

    def load(self, paths: tuple[Path, Path]) -> None:
        self.db.execute("BEGIN")
        for side, path in enumerate(paths):
            rows = ((s, n, *rest) for n, (s, *rest) in enumerate(_lines(path, side)))
            self.db.executemany("INSERT INTO rows VALUES (?, ?, ?, ?, ?, ?)", rows)
        self.db.execute(
            "CREATE TABLE pairs AS SELECT source FROM rows WHERE side = 0 AND source IS NOT "
            "NULL INTERSECT SELECT source FROM rows WHERE side = 1"
        )
        self.db.execute("CREATE UNIQUE INDEX pairs_source ON pairs (source)")

    def keep_pairs(self) -> None:
        """Leave out the rows whose partner is not in the other file."""
        self.db.execute(
            "DELETE FROM rows WHERE source IS NULL OR source NOT IN (SELECT source FROM pairs)"
        )

    def shuffle(self, side: int, rng: random.Random) -> None:
        """Put ``side``'s rows in the order ``rng.shuffle`` gives their list."""
        query = "SELECT seq FROM rows WHERE side = ? ORDER BY seq"
        seqs = array("q", (seq for (seq,) in self.db.execute(query, (side,))))
        order = array("q", range(len(seqs)))
        rng.shuffle(order)  # the same swaps as on the list of rows: only its length counts
        moves = ((-1 - at, side, seqs[old]) for at, old in enumerate(order))
        self.db.executemany("UPDATE rows SET seq = ? WHERE side = ? AND seq = ?", moves)
        self.db.execute("UPDATE rows SET seq = -1 - seq WHERE side = ?", (side,))

    def finish_loading(self) -> None:
        self.db.execute("CREATE TABLE totals (prompt INTEGER PRIMARY KEY, n INTEGER) WITHOUT ROWID")
        self.db.execute(
            "INSERT INTO totals SELECT prompt, COUNT(*) FROM rows WHERE prompt IS NOT NULL "
            "GROUP BY prompt"
        )
        self.db.execute("CREATE INDEX rows_source ON rows (source)")
        self.db.execute("COMMIT")

    def scalar(self, sql: str, *args: Any) -> int:
        return int(self.db.execute(sql, args).fetchone()[0])

    def side(self, side: int, paired: bool) -> tuple[Iterator[Row], int]:
        """``side``'s paired (or unpaired) rows in file order, and how many."""
        clause = (
            "r.side = ? AND r.source IN (SELECT source FROM pairs)"
            if paired
            else "r.side = ? AND (r.source IS NULL OR r.source NOT IN (SELECT source FROM pairs))"
        )
        sql = f"SELECT {_COLUMNS} FROM rows r LEFT JOIN totals t USING (prompt) WHERE {clause}"
        n = self.scalar(f"SELECT COUNT(*) FROM rows r WHERE {clause}", side)
        return _rows(self.db.execute(sql + " ORDER BY r.seq", (side,))), n

    def originals(self) -> tuple[Iterator[Row], int]:
        """The undesirable side's paired rows in the order of their improvements (the last
        improvement of a source where it has several), file order among equals."""
        sql = (
            f"SELECT {_COLUMNS} FROM rows r LEFT JOIN totals t USING (prompt) JOIN "
            "(SELECT source, MAX(seq) AS at FROM rows WHERE side = 0 AND source IN "
            "(SELECT source FROM pairs) GROUP BY source) g USING (source) WHERE r.side = 1 "
            "ORDER BY g.at, r.seq"
        )
        n = self.scalar(
            "SELECT COUNT(*) FROM rows WHERE side = 1 AND source IN (SELECT source FROM pairs)"
        )
        return _rows(self.db.execute(sql)), n


def _rows(cursor: sqlite3.Cursor) -> Iterator[Row]:
    for side, offset, prompt, source, labelled, total in cursor:
        prompt = None if prompt is None else prompt + _SIGN
        yield Row(side, offset, prompt, source, bool(labelled), total or 0)


def kto_records(
    desirable: Path,
    undesirable: Path,
    *,
    gap: int,
    seed: int | None = None,
    pairs_only: bool = False,
    spill: str | os.PathLike[str] | None = None,
) -> tuple[Iterator[dict[str, Any] | bytes], dict[str, int]]:
    """The two files' records in the ``kto`` order (labels set; a line that already says
    its label comes as its bytes), and counts: rows per label, pairs, and
    ``close_prompts`` (set once the records are read). ``pairs_only`` leaves out the rows
    without a partner (a resumed run's prefix: the originals still being improved would
    otherwise appear twice) and stops where no row fits (too few pairs yet): the run's
    end places everything. ``spill``: the folder of the scratch file (else a temporary
    one); it is removed when the records are read or closed."""
    store = _Store(spill)
    try:
        store.load((desirable, undesirable))
        pairs = store.scalar("SELECT COUNT(*) FROM pairs")
        if pairs_only:
            store.keep_pairs()
        if seed is not None:  # inputs are often sorted by tool or agent
            store.shuffle(0, random.Random(seed))
            store.shuffle(1, random.Random(seed + 1))
        store.finish_loading()
        counts = {
            "desirable": store.scalar("SELECT COUNT(*) FROM rows WHERE side = 0"),
            "undesirable": store.scalar("SELECT COUNT(*) FROM rows WHERE side = 1"),
            "pairs": pairs,
            "close_prompts": 0,
        }
    except BaseException:
        store.close()
        raise

    def records() -> Iterator[dict[str, Any] | bytes]:
        try:
            with open(desirable, "rb") as fd, open(undesirable, "rb") as fu:
                files = (fd, fu)
                queues = (
                    store.side(0, paired=True),
                    store.side(0, paired=False),
                    store.originals(),
                    store.side(1, paired=False),
                )
                for row in placed(queues, gap, counts, strict=pairs_only):
                    fh = files[row.side]
                    fh.seek(row.offset)
                    line = fh.readline()
                    if row.labelled:
                        yield line.rstrip(b"\r\n")
                    else:
                        yield {**orjson.loads(line), "label": row.side == 0}
        finally:
            store.close()

    return records(), counts
