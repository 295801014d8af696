"""Shared helper for the benchmarks: the real sample repeated to N lines."""

from __future__ import annotations

import sys
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "scored_sample.jsonl"
BUNDLED = Path(__file__).resolve().parents[1] / "syngen_improve" / "data" / "sample.jsonl"


def sample_lines(*, valid_only: bool = False) -> list[bytes]:
    """The lines of ``../shared/data/scored_sample.jsonl`` (or the bundled sample)."""
    src = SAMPLE if SAMPLE.exists() else BUNDLED
    print(f"# source: {src}", file=sys.stderr)
    lines = [ln if ln.endswith(b"\n") else ln + b"\n" for ln in src.read_bytes().splitlines(True)]
    if valid_only:
        import orjson

        def ok(line: bytes) -> bool:
            try:
                orjson.loads(line)
            except orjson.JSONDecodeError:
                return False
            return True

        lines = [ln for ln in lines if ok(ln)]
    return lines


def repeated(path: Path, n: int, *, valid_only: bool = False) -> Path:
    """Write the sample repeated to ``n`` lines at ``path`` and return it."""
    lines = sample_lines(valid_only=valid_only)
    with open(path, "wb") as fh:
        for i in range(n):
            fh.write(lines[i % len(lines)])
    return path
