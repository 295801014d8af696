"""The interleaver: two files in, one label-balanced file out (see the package docstring)."""

from __future__ import annotations

import itertools
import os
import random
import warnings
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final, Literal

import orjson

from .._input import check_input
from .._jsonl import JsonlWriter, read_records, write_jsonl_atomic
from .._paths import refuse_overwrite
from ..errors import UsageError
from ._arrange import DEFAULT_GAP
from ._kto_file import kto_records

__all__ = ["POLICIES", "InterleaveStats", "Policy", "interleave", "interleave_files"]

Policy = Literal["kto", "truncate", "spread", "oversample", "tail"]
POLICIES: Final = ("kto", "truncate", "spread", "oversample", "tail")
_Item = tuple[dict[str, Any], bool]


@dataclass
class InterleaveStats:
    """What an interleaving wrote: rows per label, surplus dropped, repeats, pairs."""

    policy: str
    desirable: int = 0
    undesirable: int = 0
    dropped: int = 0
    repeated: int = 0
    pairs: int = 0
    close_prompts: int = 0

    @property
    def written(self) -> int:
        return self.desirable + self.undesirable

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "written": self.written}


def _check_policy(policy: str) -> None:
    if policy not in POLICIES:
        raise UsageError(f"'policy' must be one of {POLICIES}, got {policy!r}")


def _shuffled(items: Iterable[Any], rng: random.Random, size: int) -> Iterator[Any]:
    """A seeded shuffle through a buffer of ``size`` items (bounded memory)."""
    buffer: list[Any] = []
    for item in items:
        if len(buffer) < size:
            buffer.append(item)
            continue
        i = rng.randrange(size)
        yield buffer[i]
        buffer[i] = item
    rng.shuffle(buffer)
    yield from buffer


def _alternate(
    good: Iterator[dict[str, Any]],
    bad: Iterator[dict[str, Any]],
    policy: str,
    stats: InterleaveStats,
    again: Callable[[bool], Iterator[dict[str, Any]]] | None,
) -> Iterator[_Item]:
    """True, False, ... while both last; then the surplus by ``policy`` (not spread)."""
    while True:
        g = next(good, None)
        if g is None:
            rest, label = bad, False
            break
        b = next(bad, None)
        if b is None:
            rest, label = itertools.chain([g], good), True
            break
        yield g, True
        yield b, False
    if policy == "truncate":
        stats.dropped += sum(1 for _ in rest)
        return
    if policy == "tail":
        first = next(rest, None)
        if first is None:
            return
        warnings.warn(
            "policy 'tail' puts the surplus at the end: the last part of training sees "
            "one label only; 'spread' avoids that",
            UserWarning,
            stacklevel=4,
        )
        yield first, label
        for item in rest:
            yield item, label
        return
    # oversample: keep alternating, repeating the minority from its start
    minority = not label
    repeats = again(minority) if again is not None else iter(())
    for item in rest:
        repeat = next(repeats, None)
        if repeat is None:
            repeats = again(minority) if again is not None else iter(())
            repeat = next(repeats, None)
        if repeat is None:  # the minority side is empty: nothing to repeat
            yield item, label
            continue
        stats.repeated += 1
        marked = {**repeat, "_repeat": True}
        pair = ((item, label), (marked, minority)) if label else ((marked, minority), (item, label))
        yield from pair


def _spread(
    good: Iterator[dict[str, Any]], bad: Iterator[dict[str, Any]], d: int, u: int
) -> Iterator[_Item]:
    """The minority evenly between runs of the majority, starting with True. Runs are
    ``floor`` or ``ceil`` of the ratio; a side that ends early just ends."""
    if d == 0 or u == 0:
        for item in good:
            yield item, True
        for item in bad:
            yield item, False
        return
    if d >= u:
        for k in range(u):
            for _ in range((k + 1) * d // u - k * d // u):
                g = next(good, None)
                if g is not None:
                    yield g, True
            b = next(bad, None)
            if b is not None:
                yield b, False
    else:
        for k in range(d):
            g = next(good, None)
            if g is not None:
                yield g, True
            for _ in range((k + 1) * u // d - k * u // d):
                b = next(bad, None)
                if b is not None:
                    yield b, False
    for item in good:  # counts were low: nothing is lost
        yield item, True
    for item in bad:
        yield item, False


def interleave(
    desirable: Iterable[dict[str, Any]],
    undesirable: Iterable[dict[str, Any]],
    *,
    policy: Policy = "spread",
    counts: tuple[int, int] | None = None,
    again: Callable[[bool], Iterator[dict[str, Any]]] | None = None,
    stats: InterleaveStats | None = None,
) -> Iterator[dict[str, Any]]:
    """Interleave two record streams, ``label`` set to True / False.

    ``spread`` needs ``counts`` (desirable, undesirable); ``oversample`` needs
    ``again(label)`` to restart the minority side's stream.
    """
    _check_policy(policy)
    if policy == "kto":
        raise UsageError("policy 'kto' reorders whole files: use interleave_files")
    stats = stats if stats is not None else InterleaveStats(policy)
    good, bad = iter(desirable), iter(undesirable)
    if policy == "spread":
        if counts is None:
            raise ValueError("policy 'spread' needs counts=(desirable, undesirable)")
        items: Iterator[_Item] = _spread(good, bad, *counts)
    else:
        items = _alternate(good, bad, policy, stats, again)
    for record, label in items:
        if label:
            stats.desirable += 1
        else:
            stats.undesirable += 1
        yield {**record, "label": label}


def _count(path: Path) -> int:
    """Non-blank lines (no JSON parsing: ``spread`` copes with a count that is off)."""
    if not path.exists():
        return 0
    with open(path, "rb") as fh:
        return sum(1 for line in fh if line.strip())


class _Index:
    """Byte offsets of a JSONL file's records by ``_source_line`` (16 bytes each)."""

    def __init__(self, path: Path) -> None:
        self.keys, self.offsets = array("q"), array("q")
        offset = 0
        if path.exists():
            with open(path, "rb") as fh:
                for raw in fh:
                    start, offset = offset, offset + len(raw)
                    key = _source_line_of(raw)
                    if key is not None:
                        self.keys.append(key)
                        self.offsets.append(start)
        if any(a > b for a, b in zip(self.keys, self.keys[1:], strict=False)):
            order = sorted(range(len(self.keys)), key=self.keys.__getitem__)
            self.keys = array("q", (self.keys[i] for i in order))
            self.offsets = array("q", (self.offsets[i] for i in order))
        self.used = bytearray(len(self.keys))
        self._fh = open(path, "rb") if path.exists() else None  # noqa: SIM115

    def take(self, key: int) -> dict[str, Any] | None:
        i = bisect_left(self.keys, key)
        if i == len(self.keys) or self.keys[i] != key or self.used[i] or self._fh is None:
            return None
        self.used[i] = 1
        self._fh.seek(self.offsets[i])
        value: dict[str, Any] = orjson.loads(self._fh.readline())
        return value

    def unused(self, path: Path) -> Iterator[dict[str, Any]]:
        for record in read_records(path):
            key = record.get("_source_line")
            i = bisect_left(self.keys, key) if isinstance(key, int) else len(self.keys)
            if i < len(self.keys) and self.keys[i] == key and self.used[i]:
                continue
            yield record

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()


def _source_line_of(raw: bytes) -> int | None:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    key = value.get("_source_line") if isinstance(value, dict) else None
    return key if isinstance(key, int) and not isinstance(key, bool) else None


def interleave_files(
    desirable: str | os.PathLike[str],
    undesirable: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    policy: Policy = "spread",
    pairs: bool = False,
    shuffle_seed: int | None = None,
    shuffle_buffer: int = 10_000,
    prompt_gap: int = DEFAULT_GAP,
    pairs_only: bool = False,
    spill: str | os.PathLike[str] | None = None,
) -> InterleaveStats:
    """Interleave two JSONL files into ``out`` (see the module docstring). The file is
    written beside ``out`` and renamed over it, so a reader never sees half of it.
    ``prompt_gap`` is the ``kto`` policy's distance between rows that share a prompt;
    ``pairs_only`` (``kto``) leaves out rows whose partner is not in the other file;
    ``spill`` (``kto``) is the folder of its scratch file (a run's ``state/``; else a
    temporary folder)."""
    _check_policy(policy)
    if prompt_gap < 0:
        raise UsageError(f"'prompt_gap' must be >= 0, got {prompt_gap}")
    if shuffle_buffer < 1:
        raise UsageError(f"'shuffle_buffer' must be >= 1, got {shuffle_buffer}")
    if pairs and policy == "oversample":
        raise UsageError("policy 'oversample' repeats rows and cannot keep pairs together")
    good_path, bad_path, target = Path(desirable), Path(undesirable), Path(out)
    for path in (good_path, bad_path):
        check_input(path)
    refuse_overwrite(target, good_path, bad_path)
    stats = InterleaveStats(policy)
    seed = shuffle_seed

    def side(path: Path, salt: int) -> Iterator[dict[str, Any]]:
        records = read_records(path)
        if seed is None:
            return records
        return _shuffled(records, random.Random(seed * 2 + salt), shuffle_buffer)

    rows: Iterable[dict[str, Any] | bytes]
    kto_counts: dict[str, int] = {}  # complete once the rows are written
    if policy == "kto":
        rows, kto_counts = kto_records(
            good_path, bad_path, gap=prompt_gap, seed=seed, pairs_only=pairs_only, spill=spill
        )
    elif pairs:
        rows = _paired(good_path, bad_path, policy, stats, side, seed, shuffle_buffer)
    else:
        counts = (_count(good_path), _count(bad_path)) if policy == "spread" else None
        rows = interleave(
            side(good_path, 0),
            side(bad_path, 1),
            policy=policy,
            counts=counts,
            again=lambda label: side(good_path if label else bad_path, 2),
            stats=stats,
        )
    write_jsonl_atomic(target, rows)
    for name, value in kto_counts.items():
        setattr(stats, name, value)
    return stats


def _paired(
    good_path: Path,
    bad_path: Path,
    policy: Policy,
    stats: InterleaveStats,
    side: Callable[[Path, int], Iterator[dict[str, Any]]],
    seed: int | None,
    buffer: int,
) -> Iterator[dict[str, Any]]:
    """Each desirable record followed by the undesirable one with its ``_source_line``;
    then the unpaired records of both sides by ``policy``."""
    index = _Index(bad_path)
    unpaired_good = good_path.with_name(good_path.name + ".unpaired.tmp")
    leftovers_bad = bad_path.with_name(bad_path.name + ".unpaired.tmp")
    try:
        with JsonlWriter(unpaired_good) as spill:

            def pair_units() -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
                for record in read_records(good_path):
                    key = record.get("_source_line")
                    match = index.take(key) if isinstance(key, int) else None
                    if match is None:
                        spill.write(record)
                    else:
                        yield record, match

            units: Iterator[tuple[dict[str, Any], dict[str, Any]]] = pair_units()
            if seed is not None:
                units = _shuffled(units, random.Random(seed), buffer)
            for good, bad in units:
                stats.pairs += 1
                stats.desirable += 1
                stats.undesirable += 1
                yield {**good, "label": True}
                yield {**bad, "label": False}
        with JsonlWriter(leftovers_bad) as spill_bad:
            for record in index.unused(bad_path):
                spill_bad.write(record)
        counts = (_count(unpaired_good), _count(leftovers_bad))
        yield from interleave(
            side(unpaired_good, 3),
            side(leftovers_bad, 4),
            policy=policy,
            counts=counts,
            again=None,
            stats=stats,
        )
    finally:
        index.close()
        unpaired_good.unlink(missing_ok=True)
        leftovers_bad.unlink(missing_ok=True)
