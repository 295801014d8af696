"""Engine overhead, memory and rate-limit use against the fake server in another process.

    .venv/bin/python benchmarks/bench_engine.py            # everything (~3 minutes)
    .venv/bin/python benchmarks/bench_engine.py --quick    # wall/CPU only

This measures the engine and its transport inside one process; the whole command line
(start-up, concurrency 400, the fault profile, RPM/TPM-limited servers, each beside a bare
loop that replays the recorded bodies) is ``bench_cli.py``.

Scenarios (each client run is its own process, so peak RSS is its own):

1. wall time and client CPU: 2,000 real examples, concurrency 100, fake latency 200 ms;
   our pipeline (read_jsonl -> run_pool -> Engine -> DirectBackend, the default client ->
   Writer) against a bare aiohttp loop that reads the same lines, sends the same
   bodies and writes the replies. Alternated, two rounds; then the same pipeline through
   the SDK (AnthropicBackend over aiohttp), for the transport choice.
2. peak RSS of our pipeline at 1,000 and 20,000 examples.
3. rate limits: server RPM = client RPM = 600 for 60 s: server 429s and requests used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import contextlib

from _data import repeated

from syngen_improve import Record, read_jsonl
from syngen_improve._pool import Writer, run_pool
from syngen_improve.llm import (
    AnthropicBackend,
    DirectBackend,
    Engine,
    RateLimits,
    Request,
    RetryPolicy,
)

SYSTEM = (
    "You improve one synthetic tool-calling example for preference training. Keep the "
    "user's intent and the same tools in the same order; fill the seven context fields "
    "with specific, realistic text; add a realistic Result after each call.\n"
) * 12
TOOL = {
    "name": "submit_improved_example",
    "description": "Submit the improved example.",
    "input_schema": {
        "type": "object",
        "properties": {"conversations": {"type": "array"}, "label": {"type": "boolean"}},
        "required": ["conversations"],
    },
}
INSTRUCTION = "Improve this example. Return it with submit_improved_example.\n\n"
HEADERS = {
    "authorization": "Bearer sk-bench",
    "anthropic-version": "2026-10-21",
    "content-type": "application/json",
}


# -- clients (run in a child process) -------------------------------------------------


async def ours(path: Path, url: str, out: Path, concurrency: int, rpm: float | None,
               duration: float | None, sdk: bool = False) -> dict[str, Any]:  # fmt: skip
    backend: AnthropicBackend | DirectBackend = (
        AnthropicBackend(api_key="sk-bench", base_url=url)
        if sdk
        else DirectBackend(api_key="sk-bench", base_url=url)
    )
    engine = Engine(backend, limits=RateLimits(rpm=rpm), retry=RetryPolicy(timeout=60))
    finished: list[float] = []
    start = time.perf_counter()

    async with Writer(out) as writer:

        async def handle(rec: Record) -> None:
            content = INSTRUCTION + orjson.dumps(rec.data).decode()
            request = Request(
                messages=[{"role": "user", "content": content}],
                system=SYSTEM,
                tools=[TOOL],
                tool_choice="submit_improved_example",
                max_tokens=4096,
            )
            reply = await engine.complete(request)
            block = reply.tool_use("submit_improved_example")
            await writer.put({"_source_line": rec.line, "example": block and block["input"]})
            finished.append(time.perf_counter() - start)

        records = (r for r in read_jsonl(path) if isinstance(r, Record))
        job = run_pool(records, handle, concurrency=concurrency)
        if duration is None:
            await job
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(job, duration)
    await backend.aclose()
    return {"done": len(finished), "finished": finished, "stats": engine.stats.to_dict()}


async def bare(path: Path, url: str, out: Path, concurrency: int) -> dict[str, Any]:
    slots = asyncio.Semaphore(concurrency)
    done = 0
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    async with aiohttp.ClientSession() as session, asyncio.TaskGroup() as group:

        async def one(line_no: int, line: bytes) -> None:
            nonlocal done
            try:
                body = {
                    "model": "claude-haiku-5-5",
                    "max_tokens": 4096,
                    "system": [{"type": "text", "text": SYSTEM,
                                "cache_control": {"type": "ephemeral"}}],
                    "messages": [{"role": "user", "content": INSTRUCTION + line.decode()}],
                    "tools": [TOOL],
                    "tool_choice": {"type": "tool", "name": "submit_improved_example"},
                }  # fmt: skip
                async with session.post(
                    url + "/v1/messages", data=orjson.dumps(body), headers=HEADERS
                ) as resp:
                    data = orjson.loads(await resp.read())
                block = data["content"][0]
                os.write(fd, orjson.dumps({"_source_line": line_no, "example": block["input"]})
                         + b"\n")  # fmt: skip
                done += 1
            finally:
                slots.release()

        with open(path, "rb") as fh:
            for line_no, line in enumerate(fh, 1):
                try:
                    orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                await slots.acquire()
                group.create_task(one(line_no, line.rstrip(b"\n")))
    os.close(fd)
    return {"done": done}


def child(args: argparse.Namespace) -> None:
    out = Path(args.out)
    import anthropic  # noqa: F401 - setup, like aiohttp for the bare loop: imported untimed

    cpu0, wall0 = time.process_time(), time.perf_counter()
    if args.child in ("ours", "sdk"):
        result = asyncio.run(ours(Path(args.input), args.url, out, args.concurrency,
                                  args.rpm, args.duration, args.child == "sdk"))  # fmt: skip
    else:
        result = asyncio.run(bare(Path(args.input), args.url, out, args.concurrency))
    result["wall_s"] = time.perf_counter() - wall0
    result["cpu_s"] = time.process_time() - cpu0
    result["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


# -- orchestration ----------------------------------------------------------------------


class Server:
    """The fake in its own process."""

    def __init__(self, *flags: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "syngen_improve.testing", *flags],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().split()[-1]

    def counters(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url + "/_fake/counters") as resp:
            result: dict[str, Any] = json.loads(resp.read())
            return result

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()


def run_child(kind: str, data: Path, url: str, tmp: Path, *extra: str) -> dict[str, Any]:
    out = tmp / f"{kind}-{time.monotonic_ns()}.jsonl"
    cmd = [sys.executable, __file__, "--child", kind, "--input", str(data), "--url", url,
           "--out", str(out), *extra]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    lines = out.read_bytes().count(b"\n")
    if lines != result["done"]:
        raise SystemExit(f"{kind}: {result['done']} done but {lines} lines written")
    out.unlink()
    return result


def main() -> None:
    p = argparse.ArgumentParser(allow_abbrev=False, description=__doc__)
    p.add_argument("--child", choices=["ours", "sdk", "bare"])
    p.add_argument("--input")
    p.add_argument("--url")
    p.add_argument("--out")
    p.add_argument("--concurrency", type=int, default=100)
    p.add_argument("--rpm", type=float)
    p.add_argument("--duration", type=float)
    p.add_argument("--quick", action="store_true", help="only the wall/CPU comparison")
    args = p.parse_args()
    if args.child:
        child(args)
        return

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        data2k = repeated(tmp / "2k.jsonl", 2000, valid_only=True)
        server = Server("--latency", "0.2")
        try:
            print("== 1. wall time and client CPU: 2,000 examples, concurrency 100, 200 ms")
            ratios, cpus = [], []
            for rnd in (1, 2):
                b = run_child("bare", data2k, server.url, tmp)
                o = run_child("ours", data2k, server.url, tmp)
                ratio = o["wall_s"] / b["wall_s"]
                ratios.append(ratio)
                cpus.append(o["cpu_s"] / 2000 * 1000)
                print(
                    f"round {rnd}: bare {b['wall_s']:.2f} s ({b['cpu_s'] / 2:.2f} ms CPU/ex), "
                    f"ours {o['wall_s']:.2f} s ({o['cpu_s'] / 2:.2f} ms CPU/ex); "
                    f"wall ratio ours/bare {ratio:.3f}"
                )
            print(f"median wall ratio {statistics.median(ratios):.3f} (target <= 1.10); "
                  f"our CPU {statistics.median(cpus):.2f} ms/example (target <= 1.5)")  # fmt: skip
            for rnd in (1, 2):  # the same pipeline through the SDK's request path
                b = run_child("bare", data2k, server.url, tmp)
                d = run_child("sdk", data2k, server.url, tmp)
                print(f"sdk round {rnd}: bare {b['wall_s']:.2f} s ({b['cpu_s'] / 2:.2f} ms "
                      f"CPU/ex), AnthropicBackend {d['wall_s']:.2f} s ({d['cpu_s'] / 2:.2f} ms "
                      f"CPU/ex); wall ratio {d['wall_s'] / b['wall_s']:.3f}")  # fmt: skip
            counters = server.counters()
            print(f"server: max in flight {counters['max_in_flight']}, "
                  f"statuses {counters['by_status']}")  # fmt: skip
            if args.quick:
                return
            print("== 2. peak RSS (whole client process)")
            data1k = repeated(tmp / "1k.jsonl", 1000, valid_only=True)
            data20k = repeated(tmp / "20k.jsonl", 20000, valid_only=True)
            small = run_child("ours", data1k, server.url, tmp)["maxrss_mb"]
            big = run_child("ours", data20k, server.url, tmp)["maxrss_mb"]
            print(f"1,000 examples {small:.1f} MB, 20,000 examples {big:.1f} MB: "
                  f"ratio {big / small:.3f} (target <= 1.2, and <= 250 MB)")  # fmt: skip
        finally:
            server.stop()

        print("== 3. server RPM = client RPM = 600, 60 s")
        limited = Server("--latency", "0.2", "--rpm", "600")
        try:
            r = run_child("ours", data20k, limited.url, tmp, "--rpm", "600", "--duration", "60")
            counters = limited.counters()
        finally:
            limited.stop()
        finished = r["finished"]
        steady = [t for t in finished if 10 <= t < 60]
        print(f"completed in 60 s: {r['done']} (a tenth of the minute at once, then paced: "
              f"about 60 + 600); server 429s: {counters['rate_limited']}, "
              f"client saw rate_limited={r['stats']['requests']['rate_limited']}")  # fmt: skip
        print(f"steady state 10-60 s: {len(steady)} requests = {len(steady) / 50 * 60:.0f}/min "
              f"= {len(steady) / 50 * 60 / 600:.1%} of 600 (target >= 95%)")  # fmt: skip


if __name__ == "__main__":
    main()
