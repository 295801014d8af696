"""The ``kto`` order's placement: which row each slot of the file takes.

A label plan spreads the majority label evenly; each slot takes the row of its label,
among the next :data:`LOOKAHEAD` of that label's queue, whose prompt is clear of the last
``gap`` rows and has the most rows still to place (the earliest on ties). The candidates
of each queue are kept in a heap, so a slot costs a few heap operations, not a scan of
the lookahead: a prompt's entry is pushed again whenever its weight or its place in the
window changes, and stale entries are dropped when they come up.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from ._arrange import Window

__all__ = ["LOOKAHEAD", "Counted", "Row", "placed"]

#: How far into a label's queue a slot looks for a row whose prompt is clear (64 keeps the
#: 2,000-pair rebuild at a tenth of a second with the same result on the real slice).
LOOKAHEAD: Final = 64


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


#: A queue of rows and how many it holds.
Counted = tuple[Iterator[Row], int]


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


class _Left:
    """How many rows each prompt still has to place: the prompts started and not done
    (the others have all their rows left, their ``total``)."""

    def __init__(self) -> None:
        self.open: dict[int, int] = {}

    def weight(self, prompt: int, total: int) -> int:
        return self.open.get(prompt, total)

    def placed(self, row: Row) -> None:
        if row.prompt is None:
            return
        n = self.open.get(row.prompt, row.total)
        if n > 1:
            self.open[row.prompt] = n - 1
        else:
            self.open.pop(row.prompt, None)


class _Queue:
    """One label's rows in queue order: the next :data:`LOOKAHEAD` in memory, and a heap
    of the candidates among them, best first: ``(-weight, seq, prompt)``. A prompt shared
    by several rows (``total > 1``) has one entry, for its earliest row ahead; an entry
    whose weight or prompt's window has changed since is dropped when it comes up (the
    change pushed a fresh one: :meth:`push`). The others are entries of their own
    (``prompt`` ``None``, weight their ``total``: 0 or 1)."""

    def __init__(self, rows: Iterator[Row], left: _Left) -> None:
        self._rows = rows
        self._left = left
        self._seq = 0
        self.ahead: dict[int, Row] = {}  # by seq, in queue order
        self.heap: list[tuple[int, int, int | None]] = []
        self._of_prompt: dict[int, deque[int]] = {}  # shared prompts: their seqs ahead

    def fill(self) -> bool:
        """Read up to :data:`LOOKAHEAD` rows ahead; whether any is."""
        while len(self.ahead) < LOOKAHEAD:
            row = next(self._rows, None)
            if row is None:
                break
            seq = self._seq = self._seq + 1
            self.ahead[seq] = row
            prompt = row.prompt
            if row.total > 1 and prompt is not None:
                seqs = self._of_prompt.get(prompt)
                if seqs is None:
                    self._of_prompt[prompt] = deque((seq,))
                    self.push(prompt)
                else:
                    seqs.append(seq)
            else:
                heapq.heappush(self.heap, (-row.total, seq, None))
        return bool(self.ahead)

    def push(self, prompt: int | None) -> None:
        """A fresh entry for ``prompt``'s earliest row ahead (none: no such row)."""
        seqs = None if prompt is None else self._of_prompt.get(prompt)
        if seqs:
            row = self.ahead[seqs[0]]
            weight = self._left.weight(row.prompt, row.total)  # type: ignore[arg-type]
            heapq.heappush(self.heap, (-weight, seqs[0], prompt))

    def take(self, seq: int) -> Row:
        """Remove the row ``seq`` (the earliest of its prompt) from the queue."""
        row = self.ahead.pop(seq)
        prompt = row.prompt
        seqs = None if prompt is None else self._of_prompt.get(prompt)
        if seqs is not None:
            seqs.popleft()
            if seqs:
                self.push(prompt)
            else:
                del self._of_prompt[prompt]  # type: ignore[arg-type]
        return row

    def first(self) -> Row:
        """Take the earliest row ahead, whatever its prompt."""
        return self.take(next(iter(self.ahead)))


def _take(queue: _Queue, window: Window, left: _Left) -> Row | None:
    """The row to place from ``queue``: among the next :data:`LOOKAHEAD` whose prompt is
    clear of the window, the one whose prompt has the most rows still to place (they are
    the hardest to keep apart later), the earliest on ties."""
    queue.fill()
    heap, ahead, recent = queue.heap, queue.ahead, window.counts.get
    while heap:
        negative, seq, prompt = heap[0]
        heapq.heappop(heap)
        row = ahead.get(seq)
        if row is None:
            continue  # taken already
        if prompt is not None:
            if -negative != left.weight(prompt, row.total):
                continue  # a placement since pushed its present weight
            if recent(prompt):  # .get: a Counter's missing key would call __missing__
                continue  # pushed again when it leaves the window
        return queue.take(seq)
    return None


def _settle(row: Row, queues: tuple[_Queue, _Queue], window: Window, left: _Left) -> None:
    """``row`` placed: its prompt has one row less to place and enters the window; the
    prompt leaving the window is a candidate again."""
    left.placed(row)
    cleared = window.add(row.prompt)
    for queue in queues:
        queue.push(row.prompt)
        if cleared is not None:
            queue.push(cleared)


def placed(
    queues: tuple[Counted, Counted, Counted, Counted],
    gap: int,
    counts: dict[str, int],
    *,
    strict: bool,
) -> Iterator[Row]:
    """The rows in the ``kto`` order (``counts["close_prompts"]`` set at the end: rows
    placed within ``gap`` of their prompt, 0 unless the data leaves no other choice).
    ``queues``: the desirable rows with a partner and without, the originals in their
    improvements' order and the undesirable rows without a partner, each with its length.
    ``strict`` stops where no row fits instead, at an even length."""
    (good, n_good), (good_rest, n_good_rest), (bad, n_bad), (bad_rest, n_bad_rest) = queues
    bad = _rotated(bad, min(n_bad, gap // 2 + 1))
    left = _Left()
    sides = (
        _Queue(_spread(good, n_good, good_rest, n_good_rest), left),
        _Queue(_spread(bad, n_bad, bad_rest, n_bad_rest), left),
    )
    window = Window(gap)
    totals = (n_good + n_good_rest, n_bad + n_bad_rest)
    placed, close = [0, 0], 0
    # The plan's own longest run; taking the other label must not exceed it.
    bound = -(-max(totals) // min(totals)) if min(totals) else max(totals)
    run_side, run = -1, 0
    held: Row | None = None  # one row behind, so that a strict stop can end even
    for n in range(sum(totals)):
        side = _next_side(placed, totals, run_side)
        other = 1 - side
        row = _take(sides[side], window, left)
        if row is None and (run_side != other or run < bound):
            row = _take(sides[other], window, left)  # prompts apart, at the plan's cost
        if row is None and strict:
            if n % 2 == 0 and held is not None:
                yield held
            held = None
            break
        if row is None:  # nothing fits: keep the plan, accept a close prompt
            row = (sides[side] if sides[side].fill() else sides[other]).first()
            close += 1
        _settle(row, sides, window, left)
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
