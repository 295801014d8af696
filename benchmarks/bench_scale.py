"""Memory and finish time by the size of a run, and a repeated run through the cache.

``python benchmarks/bench_scale.py [--sizes 1000 100000 1000000] [--repeat 20000]``

Each size is the real 900-line slice repeated, every row given a distinct ``_index`` (so
the prompts repeat, as in a dataset that reuses its user turns), improved by the CLI in
its own process against the fake at 1 ms latency, concurrency 100, with a response cache
of its own (repeated rows ask the same request: answered from it after the first).
Printed: wall time, the run phase (report.json's ``elapsed_s``), the finish (the rest:
start-up, the KTO file rebuilt, the report), peak RSS of the process. Then ``--repeat``
rows run once, and again into a new folder with the same cache: requests sent, examples
per second, and whether the improved rows are the same.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import sample_lines
from bench_cli import Fake, timed


def data_of(path: Path, n: int) -> Path:
    """The slice repeated to ``n`` rows, each with a distinct ``_index``."""
    lines = sample_lines()
    with open(path, "wb") as fh:
        for i in range(n):
            raw = lines[i % len(lines)]
            try:
                row = orjson.loads(raw)
            except orjson.JSONDecodeError:
                fh.write(raw)  # the slice's one malformed line, quarantined each time
                continue
            row["_index"] = i
            fh.write(orjson.dumps(row) + b"\n")
    return path


def run(data: Path, out: Path, url: str, cache: Path) -> dict[str, float]:
    env = {**os.environ, "ANTHROPIC_BASE_URL": url, "ANTHROPIC_API_KEY": "sk-bench"}
    cmd = [sys.executable, "-m", "syngen_improve", "improve", str(data), "--out", str(out),
           "--no-progress", "--concurrency", "100", "--cache-dir", str(cache)]  # fmt: skip
    result = timed(cmd, env)
    report = json.loads((out / "report.json").read_text())
    return {
        **result,
        "run": float(report["elapsed_s"]),
        "requests": report["requests"]["total"],
        "cached": report["requests"]["cached"],
    }


def rows(path: Path) -> list[bytes]:
    out = []
    for line in path.read_bytes().splitlines():
        record = orjson.loads(line)
        record["_provenance"].pop("run")
        out.append(orjson.dumps(record, option=orjson.OPT_SORT_KEYS))
    return sorted(out)


def sizes(folder: Path, url: str, counts: list[int]) -> None:
    """Each size once: wall, run phase, finish, peak RSS."""
    for n in counts:
        data = data_of(folder / f"in-{n}.jsonl", n)
        r = run(data, folder / f"out-{n}", url, folder / f"cache-{n}")
        print(
            f"{n:>9,} rows: wall {r['wall']:.1f} s (run {r['run']:.1f} s, finish and "
            f"start-up {r['wall'] - r['run']:.1f} s), peak RSS {r['rss_mb']:.0f} MB; "
            f"{r['requests']:,} requests, {r['cached']:,} from the cache",
            flush=True,
        )
        data.unlink()


def repeated(folder: Path, url: str, n: int) -> None:
    """``n`` distinct rows (no repeats: the first run sends every request), run twice
    into two folders through one cache."""
    data = folder / "repeat.jsonl"
    lines = sample_lines(valid_only=True)
    with open(data, "wb") as fh:
        for i in range(n):
            row = orjson.loads(lines[i % len(lines)])
            row["conversations"][0]["content"] += f" (#{i})"
            fh.write(orjson.dumps(row) + b"\n")
    cache = folder / "cache-repeat"
    first = run(data, folder / "first", url, cache)
    again = run(data, folder / "again", url, cache)
    improved = [folder / name / "improved_examples.jsonl" for name in ("first", "again")]
    print(
        f"repeat {n:,} rows: first {first['wall']:.1f} s ({first['requests']:,} requests); "
        f"again into a new folder {again['wall']:.1f} s = {n / again['wall']:,.0f} "
        f"examples/s, {again['requests']} requests, {again['cached']:,} from the cache, "
        f"improved rows the same: {rows(improved[0]) == rows(improved[1])}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(allow_abbrev=False)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=20_000)
    args = parser.parse_args()
    with Fake("--latency", "0.001") as fake, tempfile.TemporaryDirectory() as tmp:
        sizes(Path(tmp), fake.url, args.sizes)
        if args.repeat:
            repeated(Path(tmp), fake.url, args.repeat)


if __name__ == "__main__":
    main()
