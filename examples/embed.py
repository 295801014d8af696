"""Embed the improve stage in your own tool: dicts in, outcomes out, no files.

    export ANTHROPIC_API_KEY=...        # or ANTHROPIC_BASE_URL for a compatible server
    python examples/embed.py

``Improver`` is what ``improve_dataset`` puts files around: the engine, rate limits,
templates, tool schemas and the acceptance gate, as an async context manager.
``stream()`` takes any iterable or async iterable of example dicts (rows from a queue, a
database cursor, an HTTP stream) and yields an ``Outcome`` for each as it completes,
with at most ``concurrency`` in flight; ``outcome.key`` is the input's position.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

from syngen_improve import Improver, Record, read_jsonl, sample_path

# With ANTHROPIC_API_KEY set: the API (or the server at ANTHROPIC_BASE_URL); without one,
# the built-in fake model answers, offline, so the example runs anywhere.
BACKEND = None if os.environ.get("ANTHROPIC_API_KEY") else "fake"


async def examples_from_somewhere() -> AsyncIterator[dict[str, Any]]:
    """Stands for your source; here, the bundled sample's examples."""
    for item in read_jsonl(sample_path()):
        if isinstance(item, Record):
            yield item.data


async def main() -> None:
    statuses: Counter[str] = Counter()
    async with Improver(concurrency=16, backend=BACKEND) as improver:
        async for outcome in improver.stream(examples_from_somewhere()):
            statuses[outcome.status] += 1
            if outcome.status == "improved" and outcome.record is not None:
                pass  # hand outcome.record (label true) to your tool
            elif outcome.status == "failed":
                print(f"example {outcome.key} failed: {outcome.reason}: {outcome.errors[:1]}")
        stats = improver.stats
    print(f"outcomes: {dict(sorted(statuses.items()))}")
    print(f"{stats.requests} requests, ${stats.cost_usd:.4f}")


if __name__ == "__main__":
    asyncio.run(main())
