"""Same inputs and seed give the same run, whatever the concurrency or the timing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2
import orjson

from syngen_improve import improve_dataset, sample_path
from syngen_improve.llm import AnthropicBackend, RetryPolicy
from syngen_improve.testing import DEMO_CONFIG, FakeAnthropic, FakeConfig

FAST = RetryPolicy(base_delay=0.001, max_delay=0.005)


async def run(out: Path, config: FakeConfig, **options: Any) -> dict[str, Any]:
    """A run against a fresh fake, every request sent (no response cache: the runs compared
    must each meet the fake's faults)."""
    options.setdefault("cache", False)
    fake = FakeAnthropic(config)
    client = httpx2.AsyncClient(transport=fake.transport())
    backend = AnthropicBackend(api_key="sk-test", base_url="http://fake", http_client=client)
    try:
        result = await improve_dataset(sample_path(), out, backend=backend, retry=FAST,
                                       progress=False, **options)  # fmt: skip
    finally:
        await backend.aclose()
    report = result.report
    return {
        "counts": report.counts,
        "requests": report.requests,
        "tokens": report.tokens,
        "cost_usd": report.cost_usd,
        "faults": dict(fake.counters.faults),
        "bad_outputs": dict(fake.counters.bad_outputs),
        "improved": records(out / "improved_examples.jsonl"),
        "failed": records(out / "failed.jsonl"),
    }


def records(path: Path) -> list[bytes]:
    """The file's records, sorted, without the run id (new for every run by design)."""
    rows = []
    for line in path.read_bytes().splitlines():
        record = orjson.loads(line)
        assert len(record["_provenance"].pop("run")) == 12
        rows.append(orjson.dumps(record))
    return sorted(rows)


async def test_the_demo_profile_gives_the_same_run_at_any_concurrency(tmp_path: Path) -> None:
    one = await run(tmp_path / "c1", DEMO_CONFIG, concurrency=1)
    many = await run(tmp_path / "c64", DEMO_CONFIG, concurrency=64)
    assert one == many
    assert one["counts"].improved == 120  # the demo exits 0
    assert one["faults"]  # and it shows retries
    assert one["bad_outputs"]  # and re-asks


async def test_jitter_and_every_fault_kind_are_drawn_by_content(tmp_path: Path) -> None:
    config = FakeConfig(jitter=0.002, fault_rates={"429": 0.05, "500": 0.05, "drop": 0.05},
                        bad_output_rates={"text_json": 0.1, "wrong_tool": 0.1}, seed=7,
                        retry_after=0.001)  # fmt: skip
    first = await run(tmp_path / "a", config, concurrency=3)
    second = await run(tmp_path / "b", config, concurrency=40)
    assert first == second


async def test_another_seed_draws_other_faults(tmp_path: Path) -> None:
    config = FakeConfig(fault_rates={"500": 0.2}, seed=1)
    first = await run(tmp_path / "a", config, concurrency=8, limit=60)
    other = await run(tmp_path / "b", FakeConfig(fault_rates={"500": 0.2}, seed=2),
                      concurrency=8, limit=60)  # fmt: skip
    assert first["requests"] != other["requests"] or first["faults"] != other["faults"]
