"""The KTO file a run writes, checked as a trainer would read it, with unpaired rows on
both sides (failed examples' originals, good examples with include_good)."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest

from syngen_improve import Record, improve_dataset, read_jsonl
from syngen_improve.llm import AnthropicBackend, RetryPolicy
from syngen_improve.testing import FakeAnthropic, FakeConfig

FAST = RetryPolicy(base_delay=0.001, max_delay=0.002)


@pytest.mark.parametrize("include_good", [False, True])
async def test_runs_windows_and_prompt_distance_on_the_slice(
    shared_data: Path, tmp_path: Path, include_good: bool
) -> None:
    fake = FakeAnthropic(FakeConfig(bad_output_rates={"broken_rules": 0.25}, seed=21))
    client = httpx2.AsyncClient(transport=fake.transport())
    async with AnthropicBackend(api_key="sk", base_url="http://fake", http_client=client) as b:
        result = await improve_dataset(shared_data / "scored_sample.jsonl", tmp_path, backend=b,
                                       progress=False, concurrency=32, answers=1, retry=FAST,
                                       include_good=include_good)  # fmt: skip
    assert result.counts.failed > 100  # originals without a partner
    rows = [i.data for i in read_jsonl(tmp_path / "improved_interleaved.jsonl")
            if isinstance(i, Record)]  # fmt: skip
    labels = [r["label"] for r in rows]
    longest = run = 0
    for n, label in enumerate(labels):
        run = run + 1 if n and labels[n - 1] == label else 1
        longest = max(longest, run)
    assert longest <= 2
    assert all(len(set(labels[i : i + 8])) == 2 for i in range(len(labels) - 7))
    last: dict[str, int] = {}
    for n, row in enumerate(rows):
        prompt = row["conversations"][0]["content"]
        assert n - last.get(prompt, -100) > 8, f"row {n + 1} repeats a prompt too soon"
        last[prompt] = n
    report = result.report.interleaving
    assert report is not None
    assert report.close_prompts == 0
    assert report.longest_run == longest
