"""Improve the bundled sample offline: the fake Anthropic server stands in for the API.

Swap the fake for your key (drop ``backend=``, set ANTHROPIC_API_KEY) and your file, and this
is a real run.

    python examples/improve_offline.py
"""

from __future__ import annotations

import asyncio
import tempfile

from syngen_improve import improve_dataset, sample_path
from syngen_improve.llm import AnthropicBackend
from syngen_improve.testing import FakeAnthropicServer, FakeConfig


async def main() -> None:
    # Some answers break the rules, so the acceptance gate has something to send back.
    config = FakeConfig(latency=0.01, bad_output_rates={"broken_rules": 0.1})
    with tempfile.TemporaryDirectory() as out:
        async with FakeAnthropicServer(config=config) as server:
            backend = AnthropicBackend(api_key="sk-fake", base_url=server.url)
            result = await improve_dataset(sample_path(), out, backend=backend, progress=False)
            await backend.aclose()
        report = result.report
        print(result)
        rejected = report.validation.failed
        print("answers rejected by the gate:", rejected, report.rejections)
        print("examples by number of answers:", report.attempts)
        print(f"cost at Haiku 5.5 prices: ${report.cost_usd:.4f}")


if __name__ == "__main__":
    asyncio.run(main())
