"""The bounded pool and the single-writer tasks: bounds, backpressure, cancellation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from syngen_improve import read_jsonl
from syngen_improve._jsonl import Record
from syngen_improve._pool import Writer, run_pool
from syngen_improve.errors import WriteFailed
from syngen_improve.llm import AnthropicBackend, Engine, Request, RetryPolicy
from syngen_improve.testing import FakeAnthropicServer, FakeConfig
from tests.helpers import make_example


async def test_a_slot_is_taken_before_the_task_exists() -> None:
    pulled = 0
    running = 0
    peak_tasks = 0
    gate = asyncio.Event()

    def items() -> Iterator[int]:
        nonlocal pulled
        for i in range(1000):
            pulled += 1
            yield i

    async def handle(_: int) -> None:
        nonlocal running, peak_tasks
        running += 1
        peak_tasks = max(peak_tasks, len(asyncio.all_tasks()))
        await gate.wait()
        running -= 1

    pool = asyncio.create_task(run_pool(items(), handle, concurrency=5))
    for _ in range(20):
        await asyncio.sleep(0)
    assert running == 5
    assert pulled == 6  # the sixth item waits for a slot, no task made for it
    gate.set()
    assert await pool == 1000
    assert peak_tasks <= 5 + 2  # workers + this test + the pool


async def test_first_error_is_raised_as_itself() -> None:
    async def handle(n: int) -> None:
        if n == 3:
            raise KeyError("boom")
        await asyncio.sleep(0)

    with pytest.raises(KeyError, match="boom"):
        await run_pool(range(100), handle, concurrency=4)


async def test_async_iterables_and_validation() -> None:
    async def numbers() -> Any:
        for i in range(10):
            yield i

    seen: list[int] = []

    async def handle(n: int) -> None:
        seen.append(n)

    assert await run_pool(numbers(), handle, concurrency=3) == 10
    assert sorted(seen) == list(range(10))
    with pytest.raises(ValueError, match="'concurrency' must be >= 1"):
        await run_pool([], handle, concurrency=0)


class SlowWriter(Writer):
    """A writer whose disk is held back by an event."""

    def __init__(self, path: Path, gate: asyncio.Event, **kwargs: Any) -> None:
        super().__init__(path, **kwargs)
        self.gate = gate

    async def _write(self, batch: list[Mapping[str, Any]]) -> None:
        await self.gate.wait()
        await super()._write(batch)


async def test_slow_writing_holds_the_workers_back(tmp_path: Path) -> None:
    gate = asyncio.Event()
    started = 0
    async with SlowWriter(tmp_path / "out.jsonl", gate, maxsize=3) as out:

        async def handle(n: int) -> None:
            nonlocal started
            started += 1
            await out.put({"n": n})

        pool = asyncio.create_task(run_pool(range(100), handle, concurrency=2))
        for _ in range(50):
            await asyncio.sleep(0)
        # one batch held by the writer, three queued, two workers blocked in put()
        assert started <= 1 + 3 + 2 + 1
        gate.set()
        await pool
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert sorted(json.loads(x)["n"] for x in lines) == list(range(100))
    assert out.count == 100


async def test_writer_close_writes_what_was_queued_even_when_cancelled(tmp_path: Path) -> None:
    gate = asyncio.Event()  # never set: the task never writes

    async def body() -> None:
        async with SlowWriter(tmp_path / "out.jsonl", gate) as out:
            for n in range(5):
                await out.put({"n": n})
            await asyncio.sleep(3600)

    task = asyncio.create_task(body())
    for _ in range(10):
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [json.loads(x)["n"] for x in (tmp_path / "out.jsonl").read_text().splitlines()] == [
        0, 1, 2, 3, 4,
    ]  # fmt: skip


async def test_writer_errors_surface(tmp_path: Path) -> None:
    class Broken(Writer):
        async def _write(self, batch: list[Mapping[str, Any]]) -> None:
            raise OSError("disk full")

    async def write_two() -> None:
        async with Broken(tmp_path / "x.jsonl") as out:
            await out.put({"a": 1})
            for _ in range(5):
                await asyncio.sleep(0)
            await out.put({"a": 2})

    with pytest.raises(WriteFailed, match=r"writing .*x\.jsonl failed: disk full"):
        await write_two()
    with pytest.raises(RuntimeError, match="not open"):
        await Writer(tmp_path / "y.jsonl").put({})


async def test_cancelling_a_run_leaves_no_task_and_no_half_line(tmp_path: Path) -> None:
    out_path = tmp_path / "replies.jsonl"
    retry = RetryPolicy(base_delay=0.001, timeout=5)
    with FakeAnthropicServer(config=FakeConfig(latency=0.02, jitter=0.02)) as server:
        eng = Engine(AnthropicBackend(api_key="sk-test", base_url=server.url), retry=retry)
        tool = {"name": "submit_improved_example", "input_schema": {"type": "object"}}

        async def run() -> None:
            async with Writer(out_path, maxsize=4) as out:

                async def handle(n: int) -> None:
                    ex = make_example(user=f"Summarize meeting note {n} for the team")
                    req = Request(
                        messages=[{"role": "user", "content": json.dumps(ex)}],
                        tools=[tool],
                        tool_choice="submit_improved_example",
                    )
                    reply = await eng.complete(req)
                    await out.put({"n": n, "example": reply.tool_use()})

                await run_pool(range(10_000), handle, concurrency=16)

        job = asyncio.create_task(run())
        while not out_path.exists() or out_path.stat().st_size < 20_000:
            await asyncio.sleep(0.01)
        job.cancel()
        with pytest.raises(asyncio.CancelledError):
            await job
        await eng.backend.aclose()
    assert asyncio.all_tasks() == {asyncio.current_task()}
    records = list(read_jsonl(out_path))
    assert records
    assert all(isinstance(r, Record) for r in records)
    assert out_path.read_bytes().endswith(b"\n")
    assert len({r.data["n"] for r in records if isinstance(r, Record)}) == len(records)


async def test_write_returns_once_the_record_is_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    async with Writer(path) as out:
        await out.put({"n": 1})  # queued: may not be in the file yet
        await out.write({"n": 2})
        lines = path.read_text().splitlines()  # read while the writer is still open
        assert [json.loads(x)["n"] for x in lines] == [1, 2]


async def test_write_reports_a_failed_write(tmp_path: Path) -> None:
    class Broken(Writer):
        async def _write(self, batch: list[Mapping[str, Any]]) -> None:
            raise OSError(28, "No space left on device")

    with pytest.raises(WriteFailed, match=r"x\.jsonl failed: .*No space left on device"):
        async with Broken(tmp_path / "x.jsonl") as out:
            await out.write({"n": 1})
