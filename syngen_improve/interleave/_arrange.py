"""The ``kto`` order: alternating labels, unpaired rows spread evenly, and rows that share
a prompt kept apart.

Why apart: TRL's KTOTrainer (read in TRL 1.16.0, ``trl/trainer/kto_trainer.py``) estimates
its KL reference from *mismatched* (prompt, completion) pairs, built when the dataset is
prepared by rotating the completions one row within each block of
``per_device_train_batch_size`` consecutive rows in file order: row i is paired with row
i-1's completion, the block's first row with its last. An improvement written right before
its own original therefore gives a "mismatched" pair with the same prompt. Keeping rows
that share a prompt (the first user turn) more than ``gap`` rows apart keeps every such
pair mismatched for any batch size up to ``gap + 1``.

The order is built greedily: a label plan spreads the majority label evenly (longest run
``ceil(max(D, U) / min(D, U))``, 1 when balanced), and each slot takes the first row of that
label whose prompt is not among the last ``gap`` rows placed. Originals are queued rotated
by about ``gap / 2`` pairs against their improvements, so a pair's two rows land about
``gap + 1`` rows apart, and the last originals placed are those of the first improvements.
Only a small record per row (byte offset, prompt hash, source line) is held in memory;
rows are read back by offset when the file is written.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson

__all__ = [
    "DEFAULT_GAP",
    "PairStream",
    "Row",
    "arrange",
    "kto_records",
    "last_prompts",
    "prompt_key",
    "read_rows",
    "spread_in",
]

#: Rows sharing a prompt are kept more than this many rows apart by default.
DEFAULT_GAP: Final = 8
#: How far into a label's queue a slot looks for a row whose prompt is not too close: a
#: run's stream holds back at most this many rows a side; the whole-file arrangement looks
#: :data:`_ARRANGE_LOOKAHEAD` rows ahead (it sees every row from the start, and each slot
#: scans that far when a few prompts repeat often: 64 keeps the 2,000-pair rebuild at a
#: tenth of a second with the same result on the real slice).
_LOOKAHEAD: Final = 256
_ARRANGE_LOOKAHEAD: Final = 64


def prompt_key(record: Any) -> int | None:
    """A 64-bit hash of the record's first user turn (``None`` when it has none), in any
    dialect: ``conversations`` or ``messages``, ``role``/``content`` or ``from``/``value``."""
    if not isinstance(record, dict):
        return None
    turns = record.get("conversations")
    if not isinstance(turns, list):
        turns = record.get("messages")
    if not isinstance(turns, list):
        return None
    for turn in turns:
        if not isinstance(turn, dict):
            continue
        if turn.get("role") == "user" or turn.get("from") == "human":
            content = turn.get("content", turn.get("value"))
            text = content if isinstance(content, str) else orjson.dumps(content).decode()
            digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
            return int.from_bytes(digest, "little")
    return None


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


class _Window:
    """The prompts of the last ``gap`` rows placed."""

    def __init__(self, gap: int) -> None:
        self.recent: deque[int | None] = deque(maxlen=max(gap, 0))
        self.counts: Counter[int] = Counter()

    def clear(self, prompt: int | None) -> bool:
        return prompt is None or not self.counts.get(prompt)  # .get: no __missing__ call

    def add(self, prompt: int | None) -> None:
        if self.recent.maxlen == 0:
            return
        if len(self.recent) == self.recent.maxlen:
            gone = self.recent[0]
            if gone is not None:
                self.counts[gone] -= 1
        self.recent.append(prompt)
        if prompt is not None:
            self.counts[prompt] += 1


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


class PairStream:
    """The ``kto`` order while a run goes: pairs (an improvement, its original) come in as
    they are made and rows go out strictly alternating, True first, each only once its
    prompt is more than ``gap`` rows from the same prompt. What is held back waits for
    later pairs (at most :data:`_LOOKAHEAD` a side: past that the oldest goes out anyway,
    so a dataset whose prompts all repeat cannot fill memory); the run's end rebuilds the
    whole file with :func:`arrange`."""

    def __init__(self, gap: int, recent: Sequence[int | None] = ()) -> None:
        self._window = _Window(gap)
        for prompt in recent:
            self._window.add(prompt)
        self._queues: tuple[deque[tuple[int | None, dict[str, Any]]], ...] = (deque(), deque())
        self._next = 0

    def add(self, desirable: dict[str, Any], undesirable: dict[str, Any]) -> list[dict[str, Any]]:
        """Queue a pair; returns the rows that can be written now, in order."""
        self._queues[0].append((prompt_key(desirable), desirable))
        self._queues[1].append((prompt_key(undesirable), undesirable))
        out: list[dict[str, Any]] = []
        while True:
            queue = self._queues[self._next]
            ahead = itertools.islice(enumerate(queue), _LOOKAHEAD)
            found = next((i for i, (p, _) in ahead if self._window.clear(p)), None)
            if found is None and len(queue) >= _LOOKAHEAD:
                found = 0  # the data leaves no choice: memory stays bounded, order kept
            if found is None:
                return out
            prompt, row = queue[found]
            del queue[found]
            self._window.add(prompt)
            out.append(row)
            self._next = 1 - self._next


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


def last_prompts(path: Path, count: int) -> list[int | None]:
    """The prompts of the last ``count`` rows of a JSONL file (oldest first)."""
    recent: deque[int | None] = deque(maxlen=count)
    if count and path.exists():
        with open(path, "rb") as fh:
            for raw in fh:
                if raw.strip():
                    try:
                        recent.append(prompt_key(orjson.loads(raw)))
                    except orjson.JSONDecodeError:
                        recent.append(None)
    return list(recent)
