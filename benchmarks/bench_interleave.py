"""Interleaving 1,000,000 lines: lines/s and peak RSS, each run in a fresh process.

    .venv/bin/python benchmarks/bench_interleave.py [--lines 1000000]

The input is the real sample (valid lines) repeated: 600,000 desirable and 400,000
undesirable lines with ``_source_line`` set, so ``spread`` has a surplus to place and
``pairs`` has 400,000 pairs to join. Policies: spread (counts first), truncate, pairs.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import sample_lines

from syngen_improve.interleave import interleave_files


def make(path: Path, n: int) -> None:
    lines = [orjson.loads(x) for x in sample_lines(valid_only=True)]
    with open(path, "wb") as fh:
        for i in range(n):
            fh.write(orjson.dumps({**lines[i % len(lines)], "_source_line": i + 1}) + b"\n")


def child(good: str, bad: str, out: str, mode: str) -> None:
    start = time.perf_counter()
    if mode == "pairs":
        stats = interleave_files(good, bad, out, pairs=True)
    else:
        stats = interleave_files(good, bad, out, policy=mode)  # type: ignore[arg-type]
    wall = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall_s": wall, "written": stats.written, "maxrss_mb": rss}))


def main() -> None:
    p = argparse.ArgumentParser(allow_abbrev=False, description=__doc__)
    p.add_argument("--lines", type=int, default=1_000_000)
    p.add_argument("--child", nargs=4, metavar=("GOOD", "BAD", "OUT", "MODE"))
    args = p.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        good, bad = Path(tmp) / "good.jsonl", Path(tmp) / "bad.jsonl"
        make(good, args.lines * 6 // 10)
        make(bad, args.lines * 4 // 10)
        read = good.stat().st_size + bad.stat().st_size
        print(f"input: {args.lines:,} lines, {read / 1e9:.2f} GB")
        for mode in ("spread", "truncate", "pairs"):
            out = Path(tmp) / f"{mode}.jsonl"
            proc = subprocess.run(
                [sys.executable, __file__, "--child", str(good), str(bad), str(out), mode],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            r = json.loads(proc.stdout)
            rate = args.lines / r["wall_s"]
            print(f"{mode:9s} {r['written']:>9,} rows written in {r['wall_s']:.1f} s: "
                  f"{rate:,.0f} input lines/s; peak RSS {r['maxrss_mb']:.0f} MB")  # fmt: skip
            out.unlink()


if __name__ == "__main__":
    main()
