"""Whole-process figures of ``syngen-improve improve`` against the fake in another process,
each beside a bare aiohttp loop run in the same sitting.

    .venv/bin/python benchmarks/bench_cli.py                  # every scenario (~6 minutes)
    .venv/bin/python benchmarks/bench_cli.py --only 2k start  # some of them

The bare loop sends exactly the request bodies our run sent (the fake records them:
``python -m syngen_improve.testing --record FILE``), at the same concurrency, and writes
each reply to a file: a bigger or smaller prompt cannot flatter or hurt the ratio. Wall
time is process start to exit, CPU is the child's user + system time (``wait4``), time to
first request is process start to the fake's first arrival (one monotonic clock).

Scenarios (examples are real lines of the slice, all marked poor, so each is one request
when nothing fails):

- ``start``: time to first request on the bundled sample (ours vs the bare loop's).
- ``2k``: 2,000 examples, concurrency 100, 200 ms latency: wall ratio and CPU ms/example.
- ``10k``: 10,000 examples, concurrency 400, 200 ms latency: wall ratio.
- ``faults``: the ``2k`` run with 5% 429, 3% 529, 2% 500, 1% dropped connections, 0.5%
  requests hung 20 s and 10% bad answers, ``--answers 4``: wall vs the clean run,
  examples lost or written twice, share improved.
- ``rpm`` / ``tpm``: a fake limited to 600 requests / 240,000 input tokens a minute and the
  matching ``--rpm`` / ``--tpm``: share of requests answered 429, and the rate reached
  after the first 10 s as a share of the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import all_poor

import syngen_improve
from syngen_improve import sample_path
from syngen_improve.testing import FakeAnthropic, FakeConfig

SCENARIOS = ("start", "2k", "10k", "faults", "rpm", "tpm")
FAULTS = ["--fault", "429=0.05", "--fault", "529=0.03", "--fault", "500=0.02",
          "--fault", "drop=0.01", "--fault", "hang=0.005", "--hang-seconds", "20",
          "--bad-output", "truncated_json=0.03", "--bad-output", "broken_rules=0.03",
          "--bad-output", "wrong_tool=0.02", "--bad-output", "unchanged=0.02"]  # fmt: skip


# -- the bare loop (a child process) ----------------------------------------------------


async def bare(bodies: Path, url: str, out: Path, concurrency: int) -> None:
    import aiohttp

    headers = {"authorization": "Bearer sk-bench", "anthropic-version": "2026-10-21",
               "content-type": "application/json"}  # fmt: skip
    slots = asyncio.Semaphore(concurrency)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session, asyncio.TaskGroup() as tg:

        async def one(body: bytes) -> None:
            try:
                async with session.post(url + "/v1/messages", data=body, headers=headers) as r:
                    os.write(fd, (await r.read()).strip() + b"\n")
            finally:
                slots.release()

        with open(bodies, "rb") as fh:
            for line in fh:
                await slots.acquire()
                tg.create_task(one(line.rstrip(b"\n")))
    os.close(fd)


# -- processes ---------------------------------------------------------------------------


class Fake:
    """The fake server in its own process."""

    def __init__(self, *flags: str, record: Path | None = None) -> None:
        extra = ["--record", str(record)] if record else []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "syngen_improve.testing", "--latency", "0.2", *flags, *extra],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().split()[-1]

    def get(self, what: str) -> Any:
        with urllib.request.urlopen(f"{self.url}/_fake/{what}") as resp:
            return json.loads(resp.read())

    def __enter__(self) -> Fake:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait()


def timed(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, float]:
    """Run ``cmd``; wall from start to exit, the child's CPU, its start time, its peak RSS."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    assert proc.stderr is not None
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"{cmd[:4]} exited {code}:\n{err[-2000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return {
        "wall": wall,
        "cpu": cpu,
        "start": start,
        "exit": code,
        "rss_mb": usage.ru_maxrss / 1024,
    }


def ours(data: Path, fake: Fake, out: Path, *flags: str) -> dict[str, Any]:
    """Our CLI run; every request sent (no response cache: rounds would be free)."""
    env = {**os.environ, "ANTHROPIC_BASE_URL": fake.url, "ANTHROPIC_API_KEY": "sk-bench"}
    cmd = [sys.executable, "-m", "syngen_improve", "improve", str(data), "--out", str(out),
           "--no-progress", "--no-cache", *flags]  # fmt: skip
    result: dict[str, Any] = timed(cmd, env)
    result["report"] = json.loads((out / "report.json").read_text())
    return result


def bare_run(bodies: Path, fake: Fake, out: Path, concurrency: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", str(bodies), fake.url, str(out), str(concurrency)]
    return timed(cmd)


def first_request(fake: Fake, before: int, start: float) -> float:
    times = fake.get("timeline")
    return float(times[before]) - start


# -- scenarios ---------------------------------------------------------------------------


def throughput(tmp: Path, n: int, concurrency: int, rounds: int) -> dict[str, Any]:
    data = all_poor(tmp / f"{n}.jsonl", n)
    walls, cpus, bare_cpus = [], [], []
    for rnd in range(1, rounds + 1):
        bodies = tmp / f"bodies-{n}-{rnd}.jsonl"
        with Fake(record=bodies) as fake:
            o = ours(data, fake, tmp / f"out-{n}-{rnd}", "--concurrency", str(concurrency))
        with Fake() as fake:
            b = bare_run(bodies, fake, tmp / f"bare-{n}-{rnd}.jsonl", concurrency)
        sent = bodies.read_bytes().count(b"\n")
        walls.append(o["wall"] / b["wall"])
        cpus.append(o["cpu"] / n * 1000)
        bare_cpus.append(b["cpu"] / n * 1000)
        improved = o["report"]["counts"]["improved"]
        print(f"  round {rnd}: {sent} bodies; ours {o['wall']:.2f} s wall, {o['cpu']:.2f} s "
              f"CPU; bare {b['wall']:.2f} s wall, {b['cpu']:.2f} s CPU; wall ratio "
              f"{o['wall'] / b['wall']:.3f}; improved {improved}")  # fmt: skip
    result = {"wall_ratio": statistics.median(walls), "cpu_ms": statistics.median(cpus),
              "bare_cpu_ms": statistics.median(bare_cpus), "clean_wall": o["wall"]}  # fmt: skip
    print(f"  median: wall ratio {result['wall_ratio']:.3f}, CPU {result['cpu_ms']:.2f} ms/example "
          f"(bare {result['bare_cpu_ms']:.2f})")  # fmt: skip
    return result


def start(tmp: Path) -> None:
    bodies = tmp / "bodies-sample.jsonl"
    firsts, bare_firsts = [], []
    for rnd in range(3):
        with Fake(record=bodies if rnd == 0 else None) as fake:
            o = ours(sample_path(), fake, tmp / f"out-sample-{rnd}")
            firsts.append(first_request(fake, 0, o["start"]))
        with Fake() as fake:
            b = bare_run(bodies, fake, tmp / f"bare-sample-{rnd}.jsonl", 16)
            bare_firsts.append(first_request(fake, 0, b["start"]))
    ratio = statistics.median(firsts) / statistics.median(bare_firsts)
    print(f"  time to first request: ours {', '.join(f'{t:.2f}' for t in firsts)} s; bare "
          f"loop {', '.join(f'{t:.2f}' for t in bare_firsts)} s; median ratio {ratio:.2f} "
          "(target: ours <= 0.5 s)")  # fmt: skip


def faults(tmp: Path, clean_wall: float | None) -> None:
    data = all_poor(tmp / "2000.jsonl", 2000)
    if clean_wall is None:
        with Fake() as fake:
            clean_wall = ours(data, fake, tmp / "out-clean", "--concurrency", "100")["wall"]
    with Fake(*FAULTS) as fake:
        o = ours(data, fake, tmp / "out-faults", "--concurrency", "100", "--answers", "4")
        counters = fake.get("counters")
    counts = o["report"]["counts"]
    out = tmp / "out-faults"
    lines = [json.loads(x)["_source_line"] for x in
             (out / "improved_examples.jsonl").read_text().splitlines()]  # fmt: skip
    failed = (out / "failed.jsonl").read_text().splitlines()
    twice = len(lines) - len(set(lines))
    lost = counts["poor"] - len(set(lines)) - len(failed)
    print(f"  faults: {counters['faults']}, bad answers {counters['bad_outputs']}")
    print(f"  wall {o['wall']:.2f} s vs clean {clean_wall:.2f} s: {o['wall'] / clean_wall:.2f}x "
          f"(target <= 2); improved {counts['improved']}/{counts['poor']} = "
          f"{counts['improved'] / counts['poor']:.2%} (target >= 99%); failed {len(failed)}, "
          f"lost {lost}, written twice {twice}; exit {o['exit']}")  # fmt: skip


def limited(tmp: Path, kind: str) -> None:
    # Sized so that the run lasts about a minute past the server's full bucket at start.
    n = 700 if kind == "rpm" else 600
    data = all_poor(tmp / f"{n}.jsonl", n)
    server, client = (["--rpm", "600"], ["--rpm", "600"]) if kind == "rpm" else (
        ["--input-tpm", "240000"], ["--tpm", "240000"])  # fmt: skip
    bodies = tmp / f"bodies-{kind}.jsonl"
    with Fake(*server, record=bodies) as fake:
        o = ours(data, fake, tmp / f"out-{kind}", "--concurrency", "100", *client)
        counters = fake.get("counters")
        times = fake.get("timeline")
    first = times[0]
    if kind == "rpm":
        cost = [1.0] * len(times)
        limit, unit = 600.0, "requests/min"
    else:  # what each request counted against the server's bucket, in arrival order
        accounting = FakeAnthropic(FakeConfig()).answers
        cost = []
        for line in bodies.read_bytes().splitlines():
            usage = accounting.usage(json.loads(line))
            cost.append(usage["input_tokens"] + usage["cache_creation_input_tokens"])
        limit, unit = 240_000.0, "input tokens/min"
    steady = [c for t, c in zip(times, cost, strict=True) if t - first >= 10]
    span = times[-1] - first - 10
    rate = sum(steady) / span * 60
    share_429 = counters["rate_limited"] / max(1, counters["requests"])
    print(f"  {kind}: {counters['requests']} requests, {counters['rate_limited']} answered 429 "
          f"({share_429:.2%}, target <= 1%); after 10 s {rate:,.0f} {unit} = {rate / limit:.1%} "
          f"of the limit (target >= 90%); wall {o['wall']:.1f} s, improved "
          f"{o['report']['counts']['improved']}/{n}")  # fmt: skip


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        bodies, url, out, concurrency = sys.argv[2:6]
        asyncio.run(bare(Path(bodies), url, Path(out), int(concurrency)))
        return
    p = argparse.ArgumentParser(
        allow_abbrev=False, description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    p.add_argument("--only", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    p.add_argument("--rounds", type=int, default=2)
    args = p.parse_args()
    # As an installed package has (pip compiles it): with PYTHONDONTWRITEBYTECODE set, an
    # editable checkout would compile every module again in each child, ~0.1 s of CPU.
    compileall.compile_dir(Path(syngen_improve.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        clean = None
        if "start" in args.only:
            print("== start: time to first request, bundled sample")
            start(tmp)
        if "2k" in args.only:
            print("== 2k: 2,000 examples, concurrency 100, 200 ms (targets: wall <= 1.15x, "
                  "CPU <= 1.0 ms/example)")  # fmt: skip
            clean = throughput(tmp, 2000, 100, args.rounds)["clean_wall"]
        if "10k" in args.only:
            print("== 10k: 10,000 examples, concurrency 400, 200 ms (target: wall <= 1.4x)")
            throughput(tmp, 10_000, 400, args.rounds)
        if "faults" in args.only:
            print("== faults: the 2k run under the fault profile, --answers 4")
            faults(tmp, clean)
        for kind in ("rpm", "tpm"):
            if kind in args.only:
                print(f"== {kind}: a limited fake and the matching --{kind}")
                limited(tmp, kind)


if __name__ == "__main__":
    main()
