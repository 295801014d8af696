"""Send the bundled sample's examples through the engine against the fake server.

Runs offline: the fake injects a 529 and a dropped connection on each example's first
two tries, the engine retries them, and the stats show what it took.

    python examples/engine_with_fake.py
"""

from __future__ import annotations

import asyncio
import json

from syngen_improve import Record, read_jsonl, sample_path
from syngen_improve._pool import run_pool
from syngen_improve.llm import AnthropicBackend, Engine, RateLimits, Request, RetryPolicy
from syngen_improve.testing import FakeAnthropicServer, FakeConfig

TOOL = {"name": "submit_improved_example", "input_schema": {"type": "object"}}


async def main() -> None:
    config = FakeConfig(latency=0.01, first_faults=["529", "drop"], rpm=10_000)
    async with FakeAnthropicServer(config=config) as server:
        backend = AnthropicBackend(api_key="sk-fake", base_url=server.url)
        engine = Engine(
            backend,
            limits=RateLimits(rpm=10_000),
            retry=RetryPolicy(base_delay=0.01, max_delay=0.1),
        )
        improved = 0

        async def handle(record: Record) -> None:
            nonlocal improved
            request = Request(
                messages=[{"role": "user", "content": json.dumps(record.data)}],
                system="Improve the example; keep the same tools.",
                tools=[TOOL],
                tool_choice="submit_improved_example",
            )
            reply = await engine.complete(request)
            if reply.tool_use("submit_improved_example") is not None:
                improved += 1

        records = (r for r in read_jsonl(sample_path()) if isinstance(r, Record))
        await run_pool(records, handle, concurrency=20)
        await backend.aclose()
    stats = engine.stats.to_dict()
    print(f"improved {improved} examples")
    print(f"requests {stats['requests']}")
    print(f"tokens {stats['tokens']}, cost ${stats['cost_usd']:.4f}")
    print(f"server saw at most {server.counters.max_in_flight} requests at once")


if __name__ == "__main__":
    asyncio.run(main())
