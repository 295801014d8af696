"""Label-balancing interleaving of a desirable and an undesirable stream.

Streams both inputs: True, False, True, False, ... while both last, then the surplus of
the longer side at the end. Memory does not depend on the inputs' size.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._jsonl import JsonlWriter, Record, read_jsonl

__all__ = ["interleave_files"]


def _records(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    for item in read_jsonl(path):
        if isinstance(item, Record):
            yield item.data


def interleave_files(
    desirable: str | os.PathLike[str],
    undesirable: str | os.PathLike[str],
    out: str | os.PathLike[str],
) -> tuple[int, int]:
    """Write ``out`` alternating the two files' records (``label`` forced to True /
    False), surplus last; returns (desirable, undesirable) counts. The file is written
    beside ``out`` and renamed over it, so readers never see a half-made file."""
    target = Path(out)
    tmp = target.with_name(target.name + ".tmp")
    tmp.unlink(missing_ok=True)
    good, bad = _records(Path(desirable)), _records(Path(undesirable))
    counts = [0, 0]
    with JsonlWriter(tmp) as writer:
        batch: list[dict[str, Any]] = []
        sides = [(good, True, 0), (bad, False, 1)]
        while sides:
            for side in list(sides):
                stream, label, idx = side
                record = next(stream, None)
                if record is None:
                    sides.remove(side)
                    continue
                batch.append({**record, "label": label})
                counts[idx] += 1
            if len(batch) >= 512:
                writer.write_many(batch)
                batch = []
        writer.write_many(batch)
    os.replace(tmp, target)
    return counts[0], counts[1]
