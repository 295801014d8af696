"""Benchmark: whole-process time of `syngen-improve validate` on 55,000 lines.

The valid lines of the real sample are repeated to 55,000 lines; the command
runs as a user would run it (a fresh process, default options, then with one
worker). The dataset's own validator takes about 4.1 s for this on these
machines; the goal is at least 2x faster.

    python benchmarks/bench_validate.py [--lines 55000] [--repeat 3] [--reference SCRIPT]

``--reference`` times the dataset's own validator script (tools/validate_syngen.py of
ProfSynapse/Synaptic-Tuner, with its tool_schemas.json beside it) in the same run, so the
ratio is measured rather than quoted.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import repeated

REFERENCE_S = 4.1  # the dataset's own validator, measured on these machines


def _run(cmd: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, check=False)
        best = min(best, time.perf_counter() - t)
        if proc.returncode not in (0, 1):
            raise SystemExit(proc.stderr.decode())
    return best


def main() -> None:
    parser = argparse.ArgumentParser(allow_abbrev=False, description=__doc__)
    parser.add_argument("--lines", type=int, default=55_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reference", help="path of the dataset's own validator script")
    args = parser.parse_args()
    reference = REFERENCE_S
    exe = [sys.executable, "-m", "syngen_improve", "validate"]
    with tempfile.TemporaryDirectory() as tmp:
        path = str(repeated(Path(tmp) / "in.jsonl", args.lines, valid_only=True))
        startup = _run([sys.executable, "-c", "import syngen_improve.cli"], args.repeat)
        rows = [
            ("validate (default: all cores)", _run([*exe, path], args.repeat)),
            ("validate --workers 1", _run([*exe, path, "--workers", "1"], args.repeat)),
            ("validate --json", _run([*exe, path, "--json"], args.repeat)),
            ("validate --strict", _run([*exe, path, "--strict"], args.repeat)),
        ]
        if args.reference:
            reference = _run([sys.executable, args.reference, path], args.repeat)
            print(f"reference validator measured in this run: {reference:.2f} s")
        else:
            print(f"reference validator: {REFERENCE_S} s (quoted, not measured here)")
    print(f"{args.lines} lines, best of {args.repeat}; python startup + import {startup:.2f} s")
    for name, secs in rows:
        rate = args.lines / secs
        print(
            f"  {name:<32} {secs:6.2f} s  {rate:>9,.0f} examples/s  "
            f"reference/ours = {reference / secs:.1f}x"
        )


if __name__ == "__main__":
    main()
