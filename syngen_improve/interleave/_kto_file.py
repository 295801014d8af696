"""The ``kto`` order of two whole files (:func:`kto_records`), in memory that does not grow
with the files.

The order is :mod:`._arrange`'s (a label plan spreading the majority evenly; each slot takes
the row of its label, among the next :data:`LOOKAHEAD`, whose prompt is clear of the last
``gap`` rows and has the most rows still to place; originals queued in their improvements'
order, rotated by about ``gap / 2``). What that needs of every row (side, byte offset,
prompt hash, ``_source_line``, how many rows share its prompt) is kept in a scratch file
(:class:`~syngen_improve._scratch.Scratch`: the run's ``state/``, else a temporary
folder), and the four queues (paired and unpaired rows of each side) are read from it in
order: memory holds the queues' next rows, the prompts still being placed, and SQLite's
page cache. A shuffle seed (the
``interleave`` command's) adds a permutation of 8 bytes a row.
"""

from __future__ import annotations

import itertools
import os
import random
import sqlite3
from array import array
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson

from .._scratch import Scratch
from ._arrange import Window, prompt_key

__all__ = ["LOOKAHEAD", "kto_records"]

#: How far into a label's queue a slot looks for a row whose prompt is clear (64 keeps the
#: 2,000-pair rebuild at a tenth of a second with the same result on the real slice).
LOOKAHEAD: Final = 64
_FILE: Final = "kto_order.sqlite3"
_SIGN: Final = 1 << 63  # prompt hashes are unsigned 64-bit, SQLite integers signed
_COLUMNS: Final = "r.side, r.offset, r.prompt, r.source, r.labelled, t.n"


@dataclass(frozen=True, slots=True)
class Row:
    """Where a row is (``side``: 0 desirable, 1 undesirable; byte ``offset``), its
    prompt's hash and how many rows share it (``total``), its ``_source_line``, and whether
    its line already says the side's label (then it is copied as it is)."""

    side: int
    offset: int
    prompt: int | None
    source: int | str | None  # a source past SQLite's integers as its digits
    labelled: bool
    total: int


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

    def sizes(self) -> Counter[int]:
        """How many prompts have each count of rows."""
        return Counter(dict(self.db.execute("SELECT n, COUNT(*) FROM totals GROUP BY n")))

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


def _spread(main: Iterator[Row], n_main: int, extra: Iterator[Row], n_extra: int) -> Iterator[Row]:
    """``main`` with ``extra`` spread evenly through it (not appended as a block)."""
    total = n_main + n_extra
    taken = 0
    for i in range(total):
        # Place an extra row whenever its share so far falls behind.
        if taken < n_extra and (taken + 0.5) * total <= (i + 0.5) * n_extra + 1e-9:
            taken += 1
            yield next(extra)
        else:
            yield next(main)


def _rotated(rows: Iterator[Row], shift: int) -> Iterator[Row]:
    """``rows`` with the first ``shift`` moved to the end."""
    first = list(itertools.islice(rows, shift))
    yield from rows
    yield from first


class _Queue:
    """One label's rows in queue order: the next :data:`LOOKAHEAD` in memory."""

    def __init__(self, rows: Iterator[Row]) -> None:
        self._rows = rows
        self.ahead: deque[Row] = deque()

    def fill(self) -> deque[Row]:
        while len(self.ahead) < LOOKAHEAD:
            row = next(self._rows, None)
            if row is None:
                break
            self.ahead.append(row)
        return self.ahead


class _Left:
    """How many rows each prompt still has to place (the prompts started and not done in
    memory; the others have all their rows left), and the largest such count (kept as
    placements go, so a scan can stop at the first row that reaches it)."""

    def __init__(self, sizes: Counter[int]) -> None:
        self._sizes = sizes  # prompts by how many rows they have left
        self.top = max(sizes, default=0)
        #: The rows left of the prompts started and not done.
        self.open: dict[int, int] = {}

    def placed(self, row: Row) -> None:
        if row.prompt is None:
            return
        n = self.open.get(row.prompt, row.total)
        if n > 1:
            self.open[row.prompt] = n - 1
        else:
            self.open.pop(row.prompt, None)
        self._sizes[n] -= 1
        self._sizes[n - 1] += 1
        while self.top > 0 and not self._sizes[self.top]:
            self.top -= 1


def _take(queue: _Queue, window: Window, left: _Left) -> Row | None:
    """The row to place from ``queue``: among the next :data:`LOOKAHEAD` whose prompt is
    clear of the window, the one whose prompt has the most rows still to place (they are
    the hardest to keep apart later), the earliest on ties."""
    best, best_i = -1, -1
    ahead = queue.fill()
    # The hot loop of a rebuild (up to LOOKAHEAD rows a slot): lookups bound once.
    recent, left_of, top = window.counts.get, left.open.get, left.top
    for i, row in enumerate(ahead):
        weight, prompt = row.total, row.prompt
        if weight > 1 and prompt is not None:
            if recent(prompt):  # .get: a Counter's missing key would call __missing__
                continue
            weight = left_of(prompt, weight)
        # else a prompt of its own (total 1), never placed yet, or none (total 0): no lookup
        if weight > best:
            best, best_i = weight, i
            if weight >= top:  # no row can weigh more: the earliest such one wins
                break
    if best_i < 0:
        return None
    row = ahead[best_i]
    del ahead[best_i]
    return row


def _placed(store: _Store, gap: int, counts: dict[str, int], *, strict: bool) -> Iterator[Row]:
    """The rows in the ``kto`` order (``counts["close_prompts"]`` set at the end: rows
    placed within ``gap`` of their prompt, 0 unless the data leaves no other choice).
    ``strict`` stops where no row fits instead, at an even length."""
    good, n_good = store.side(0, paired=True)
    good_rest, n_good_rest = store.side(0, paired=False)
    bad, n_bad = store.originals()
    bad_rest, n_bad_rest = store.side(1, paired=False)
    bad = _rotated(bad, min(n_bad, gap // 2 + 1))
    queues = (
        _Queue(_spread(good, n_good, good_rest, n_good_rest)),
        _Queue(_spread(bad, n_bad, bad_rest, n_bad_rest)),
    )
    window, left = Window(gap), _Left(store.sizes())
    totals = (n_good + n_good_rest, n_bad + n_bad_rest)
    placed, close = [0, 0], 0
    # The plan's own longest run; taking the other label must not exceed it.
    bound = -(-max(totals) // min(totals)) if min(totals) else max(totals)
    run_side, run = -1, 0
    held: Row | None = None  # one row behind, so that a strict stop can end even
    for n in range(sum(totals)):
        side = _next_side(placed, totals, run_side)
        other = 1 - side
        row = _take(queues[side], window, left)
        if row is None and (run_side != other or run < bound):
            row = _take(queues[other], window, left)  # prompts apart, at the plan's cost
        if row is None and strict:
            if n % 2 == 0 and held is not None:
                yield held
            held = None
            break
        if row is None:  # nothing fits: keep the plan, accept a close prompt
            row = (queues[side].fill() or queues[other].fill()).popleft()
            close += 1
        left.placed(row)
        window.add(row.prompt)
        placed[row.side] += 1
        run, run_side = (run + 1, run_side) if row.side == run_side else (1, row.side)
        if held is not None:
            yield held
        held = row
    if held is not None:
        yield held
    counts["close_prompts"] = close


def _next_side(placed: list[int], totals: tuple[int, int], last: int) -> int:
    """The side furthest behind its share of the rows placed so far (ties: the side that
    did not go last, desirable first); a side with nothing left is never chosen."""
    lag = [(placed[s] + 1) / totals[s] if totals[s] > placed[s] else float("inf") for s in (0, 1)]
    if lag[0] == lag[1]:
        return 1 if last == 0 else 0
    return 0 if lag[0] < lag[1] else 1


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
                for row in _placed(store, gap, counts, strict=pairs_only):
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
