"""Today's whole-file ``kto`` order, kept as the oracle the on-disk one must equal: the
in-memory arrangement as it was before issue 29 (every row's record held in lists)."""

from __future__ import annotations

import itertools
import random
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from syngen_improve.interleave._arrange import Window as _Window
from syngen_improve.interleave._arrange import prompt_key

_ARRANGE_LOOKAHEAD = 64


@dataclass(frozen=True, slots=True)
class Row:
    """Where a row is (``side``: 0 desirable, 1 undesirable; byte ``offset``), its
    prompt's hash, its ``_source_line`` (for pairing), and whether its line already says
    the side's label (then it is copied as it is, not decoded and encoded again)."""

    side: int
    offset: int
    prompt: int | None
    source: int | None
    labelled: bool = False


def read_rows(path: Path, side: int) -> list[Row]:
    """One pass over a JSONL file: a :class:`Row` for every JSON object line."""
    rows: list[Row] = []
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
                    labelled = record.get("label") is (side == 0)
                    rows.append(Row(side, offset, prompt_key(record), source, labelled))
            offset += len(raw)
    return rows


def spread_in(main: Sequence[Row], extra: Sequence[Row]) -> list[Row]:
    """``main`` with ``extra`` spread evenly through it (not appended as a block)."""
    out: list[Row] = []
    total = len(main) + len(extra)
    taken = 0
    for i in range(total):
        # Place an extra row whenever its share so far falls behind.
        if taken < len(extra) and (taken + 0.5) * total <= (i + 0.5) * len(extra) + 1e-9:
            out.append(extra[taken])
            taken += 1
        else:
            out.append(main[i - taken])
    return out


def _next_side(placed: Sequence[int], totals: Sequence[int], last: int) -> int:
    """The side furthest behind its share of the rows placed so far (ties: the side that
    did not go last, desirable first); a side with nothing left is never chosen."""
    lag = [(placed[s] + 1) / totals[s] if totals[s] > placed[s] else float("inf") for s in (0, 1)]
    if lag[0] == lag[1]:
        return 1 if last == 0 else 0
    return 0 if lag[0] < lag[1] else 1


class _Left:
    """How many rows each prompt still has to place, and the largest such count (kept
    as placements go, so a scan can stop at the first row that reaches it)."""

    def __init__(self, rows: Iterable[Row]) -> None:
        self.counts: Counter[int] = Counter(r.prompt for r in rows if r.prompt is not None)
        self._sizes: Counter[int] = Counter(self.counts.values())
        self.top = max(self._sizes, default=0)

    def placed(self, prompt: int | None) -> None:
        if prompt is None:
            return
        n = self.counts[prompt]
        self.counts[prompt] = n - 1
        self._sizes[n] -= 1
        self._sizes[n - 1] += 1
        while self.top > 0 and not self._sizes[self.top]:
            self.top -= 1


def _take(queue: deque[Row], window: _Window, left: _Left) -> Row | None:
    """The row to place from ``queue``: among the first :data:`_ARRANGE_LOOKAHEAD` whose prompt is
    clear of the window, the one whose prompt has the most rows still to place (they are
    the hardest to keep apart later), the earliest on ties."""
    best, best_i = -1, -1
    recent, counts, top = window.counts.get, left.counts, left.top
    for i, row in enumerate(itertools.islice(queue, _ARRANGE_LOOKAHEAD)):
        prompt = row.prompt
        if prompt is None:
            weight = 0
        elif recent(prompt):  # .get: a Counter's missing key would call __missing__
            continue
        else:
            weight = counts[prompt]
        if weight > best:
            best, best_i = weight, i
            if weight >= top:  # no row can weigh more: the earliest such one wins
                break
    if best_i < 0:
        return None
    row = queue[best_i]
    del queue[best_i]
    return row


def paired_sources(desirable: Sequence[Row], undesirable: Sequence[Row]) -> set[int]:
    """The ``_source_line``s that have a row on both sides."""
    return {r.source for r in desirable if r.source is not None} & {
        r.source for r in undesirable if r.source is not None
    }


def arrange(
    desirable: list[Row],
    undesirable: list[Row],
    *,
    gap: int,
    strict: bool = False,
    pairs: set[int] | None = None,
) -> tuple[list[Row], int]:
    """The ``kto`` order of all rows, and how many rows had to be placed within ``gap``
    of a row with the same prompt (0 unless the data leaves no other choice). ``strict``
    stops instead, at an even length: a prefix, the rest left out. ``pairs`` is
    :func:`paired_sources` when the caller has it already."""
    if pairs is None:
        pairs = paired_sources(desirable, undesirable)
    good_paired = [r for r in desirable if r.source in pairs]
    good_rest = [r for r in desirable if r.source not in pairs]
    order = {row.source: n for n, row in enumerate(good_paired)}
    bad_paired = sorted(
        (r for r in undesirable if r.source in pairs), key=lambda r: order[r.source]
    )
    bad_rest = [r for r in undesirable if r.source not in pairs]
    shift = min(len(bad_paired), gap // 2 + 1)
    bad_paired = bad_paired[shift:] + bad_paired[:shift]
    queues = (deque(spread_in(good_paired, good_rest)), deque(spread_in(bad_paired, bad_rest)))
    window = _Window(gap)
    left = _Left(itertools.chain(desirable, undesirable))
    out: list[Row] = []
    close = 0
    placed = [0, 0]
    totals = (len(desirable), len(undesirable))
    # The plan's own longest run; taking the other label must not exceed it.
    bound = -(-max(totals) // min(totals)) if min(totals) else max(totals)
    run_side, run = -1, 0
    for _ in range(sum(totals)):
        side = _next_side(placed, totals, run_side)
        other = 1 - side
        row = _take(queues[side], window, left)
        if row is None and (run_side != other or run < bound):
            row = _take(queues[other], window, left)  # prompts apart, at the plan's cost
        if row is None and strict:
            del out[len(out) - len(out) % 2 :]
            break
        if row is None:  # nothing fits: keep the plan, accept a close prompt
            row = (queues[side] or queues[other]).popleft()
            close += 1
        left.placed(row.prompt)
        window.add(row.prompt)
        out.append(row)
        placed[row.side] += 1
        run, run_side = (run + 1, run_side) if row.side == run_side else (1, row.side)
    return out, close


def kto_records(
    desirable: Path,
    undesirable: Path,
    *,
    gap: int,
    seed: int | None = None,
    pairs_only: bool = False,
) -> tuple[Iterator[dict[str, Any] | bytes], dict[str, int]]:
    """The two files' records in the ``kto`` order (labels set; a line that already says
    its label comes as its bytes), and counts: rows per
    label, pairs, and ``close_prompts`` (rows placed within ``gap`` of their prompt).
    ``pairs_only`` leaves out the rows without a partner (a resumed run's prefix: the
    originals still being improved would otherwise appear twice) and stops where no row
    fits (too few pairs yet): the run's end places everything."""
    good, bad = read_rows(desirable, 0), read_rows(undesirable, 1)
    pairs = paired_sources(good, bad)
    if pairs_only:
        good = [r for r in good if r.source in pairs]
        bad = [r for r in bad if r.source in pairs]
    if seed is not None:  # inputs are often sorted by tool or agent
        random.Random(seed).shuffle(good)
        random.Random(seed + 1).shuffle(bad)
    order, close = arrange(good, bad, gap=gap, strict=pairs_only, pairs=pairs)
    counts = {
        "desirable": len(good),
        "undesirable": len(bad),
        "pairs": len(pairs),
        "close_prompts": close,
    }

    def records() -> Iterator[dict[str, Any] | bytes]:
        with open(desirable, "rb") as fd, open(undesirable, "rb") as fu:
            files = (fd, fu)
            for row in order:
                fh = files[row.side]
                fh.seek(row.offset)
                line = fh.readline()
                if row.labelled:
                    yield line.rstrip(b"\r\n")
                else:
                    yield {**orjson.loads(line), "label": row.side == 0}

    return records(), counts
