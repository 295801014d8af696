"""Shared helper for the benchmarks: the real sample repeated to N lines."""

from __future__ import annotations

import sys
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "tests" / "data" / "scored_sample.jsonl"


def sample_lines(*, valid_only: bool = False) -> list[bytes]:
    """The lines of the real 900-line slice (``tests/data/scored_sample.jsonl``)."""
    src = SAMPLE
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


def all_poor(path: Path, n: int) -> Path:
    """The valid sample lines repeated to ``n``, each scored poor (overall 2.0), so that an
    improve run sends one request per line; every repeat is made distinct (its turns end
    with `` [copy K]``), so no cache can serve a repeat from an earlier copy. Written once
    per path."""
    if path.exists():
        return path
    import orjson

    lines = sample_lines(valid_only=True)
    with open(path, "wb") as fh:
        for i in range(n):
            example = orjson.loads(lines[i % len(lines)])
            scores = example.get("quality_scores")
            example["quality_scores"] = {**(scores if isinstance(scores, dict) else {}),
                                         "overall_quality": 2.0}  # fmt: skip
            copy = i // len(lines)
            turns = example.get("conversations")
            if copy and isinstance(turns, list):
                for turn in turns:
                    if isinstance(turn, dict) and isinstance(turn.get("content"), str):
                        turn["content"] += f" [copy {copy}]"
            fh.write(orjson.dumps(example) + b"\n")
    return path
