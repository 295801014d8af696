"""An outage is not the examples' fault: what the service failed is retried by a resume,
never kept in failed.jsonl for good; what the model could not fix stays failed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2

from syngen_improve import Record, improve_dataset, read_jsonl, sample_path
from syngen_improve.llm import AnthropicBackend, BreakerPolicy, RetryPolicy
from syngen_improve.testing import FakeAnthropic, FakeConfig

FAST = RetryPolicy(max_attempts=2, base_delay=0.001, max_delay=0.002)


async def improve(out: Path, config: FakeConfig, **options: Any) -> tuple[Any, FakeAnthropic]:
    fake = FakeAnthropic(config)
    client = httpx2.AsyncClient(transport=fake.transport())
    async with AnthropicBackend(api_key="sk", base_url="http://fake", http_client=client) as b:
        result = await improve_dataset(sample_path(), out, backend=b, retry=FAST, progress=False,
                                       limit=60, **options)  # fmt: skip
    return result, fake


def failed(out: Path) -> list[dict[str, Any]]:
    return [r.data for r in read_jsonl(out / "failed.jsonl") if isinstance(r, Record)]


async def test_an_outage_is_retried_by_a_plain_resume(tmp_path: Path) -> None:
    # The breaker kept shut, so every example reaches the end of its retries.
    never_open = BreakerPolicy(threshold=10_000)
    down, _ = await improve(tmp_path, FakeConfig(fault_rates={"529": 1.0}), breaker=never_open)
    poor = down.counts.poor
    assert down.counts.failed == down.counts.retryable == poor > 0
    assert all(r["transient"] is True and r["reason"] == "request_failed" for r in failed(tmp_path))
    up, fake = await improve(tmp_path, FakeConfig(), resume=True)
    assert fake.counters.requests == poor  # each example asked once more, nothing else
    assert up.counts.improved == poor
    assert up.counts.failed == up.counts.retryable == 0
    assert failed(tmp_path) == []  # rewritten: no stale failure left
    lines = [r.data["_source_line"] for r in read_jsonl(tmp_path / "improved_examples.jsonl")
             if isinstance(r, Record)]  # fmt: skip
    assert len(lines) == len(set(lines)) == poor


async def test_content_failures_stay_unless_asked(tmp_path: Path) -> None:
    never = FakeConfig(bad_output_rates={"broken_rules": 1.0})
    first, _ = await improve(tmp_path, never, answers=1)
    assert first.counts.failed == first.counts.poor
    assert first.counts.retryable == 0
    assert all("transient" not in r for r in failed(tmp_path))
    again, fake = await improve(tmp_path, FakeConfig(), resume=True)
    assert fake.counters.requests == 0  # permanent failures are not retried by default
    assert again.counts.failed == first.counts.failed
    retried, fake = await improve(tmp_path, FakeConfig(), resume=True, retry_failed=True)
    assert fake.counters.requests == first.counts.poor
    assert retried.counts.improved == first.counts.poor
    assert retried.counts.failed == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["counts"]["retryable"] == 0
