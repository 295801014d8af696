"""Benchmark: `analyze_dataset` throughput and peak memory at 10k and 100k lines.

Each size runs in a fresh subprocess so its peak RSS is its own. Prints
examples/s and peak RSS per size and the RSS ratio (100k / 10k; flat is ~1.0).

    python benchmarks/bench_analyze.py [--sizes 10000 100000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import repeated

_CHILD = """
import json, resource, sys, time
from syngen_improve import analyze_dataset
t = time.perf_counter()
p = analyze_dataset(sys.argv[1])
dt = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"examples": p.total, "seconds": dt, "rss_mb": rss}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(allow_abbrev=False, description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            path = repeated(Path(tmp) / f"in_{n}.jsonl", n)
            out = subprocess.run(
                [sys.executable, "-c", _CHILD, str(path)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            r = json.loads(out)
            results[n] = r
            rate = r["examples"] / r["seconds"]
            print(
                f"{n:>8} lines: {r['examples']} examples in {r['seconds']:.2f} s = "
                f"{rate:,.0f} examples/s, peak RSS {r['rss_mb']:.1f} MB"
            )
    if len(args.sizes) >= 2:
        lo, hi = results[args.sizes[0]], results[args.sizes[-1]]
        print(f"peak RSS ratio {args.sizes[-1]}/{args.sizes[0]}: {hi['rss_mb'] / lo['rss_mb']:.2f}")


if __name__ == "__main__":
    main()
