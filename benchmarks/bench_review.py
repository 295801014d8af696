"""The review page over a big folder: how long its index takes to build, how long page 1
and page 500 take to answer, and the server's peak RSS.

``python benchmarks/bench_review.py [--rows 1000000] [--folder DIR]``

Without ``--folder`` the folder is made as ``bench_scale.py`` makes its runs (the real slice
repeated with distinct ``_index``, the fake at 1 ms, concurrency 100, a response cache of
its own). The server is ``syngen-improve review DIR --no-browser`` in its own process; each
page is asked five times (the median is printed: on localhost the time of the answer is
the server's).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_cli import Fake
from bench_scale import data_of, run


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed_get(url: str, times: int = 5) -> tuple[float, int]:
    spent = []
    size = 0
    for _ in range(times):
        start = time.perf_counter()
        with urllib.request.urlopen(url) as resp:
            size = len(resp.read())
        spent.append(time.perf_counter() - start)
    return statistics.median(spent), size


def serve(folder: Path) -> None:
    cmd = [sys.executable, "-m", "syngen_improve", "review", str(folder), "--no-browser"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        ready = time.perf_counter() - start
        url = line.split(" at ", 1)[1].split()[0]
        print(f"index and server ready in {ready:.1f} s ({url})", flush=True)
        with urllib.request.urlopen(url + "api/rows?page=500&size=50") as resp:
            line = json.loads(resp.read())["rows"][0]["line"]
        for what, path in (
            ("page 1", "api/rows?page=1&size=50"),
            ("page 500", "api/rows?page=500&size=50"),
            ("page 500, one issue kind", "api/rows?page=500&size=50&issue=weak_goals"),
            ("the first row of page 500", f"api/row/{line}"),
        ):
            spent, size = timed_get(url + path)
            print(f"  {what}: {spent * 1000:.0f} ms ({size:,} bytes)", flush=True)
        print(f"  server peak RSS {peak_rss_mb(proc.pid):.0f} MB", flush=True)
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(allow_abbrev=False)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--folder", type=Path, help="an output folder to review as it is")
    args = parser.parse_args()
    if args.folder is not None:
        serve(args.folder)
        return
    with Fake("--latency", "0.001") as fake, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = data_of(folder / "in.jsonl", args.rows)
        made = run(data, folder / "out", fake.url, folder / "cache")
        print(f"{args.rows:,} rows improved in {made['wall']:.0f} s", flush=True)
        data.unlink()
        serve(folder / "out")
        os.sync()


if __name__ == "__main__":
    main()
