"""``estimate``: a run's cost before it costs anything, within 30% of the run itself, with
no Messages request (a sample counted by ``count_tokens`` when a key is set)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from syngen_improve import improve_dataset, sample_path
from syngen_improve.cli import main
from syngen_improve.estimate import estimate_cost
from syngen_improve.llm import DirectBackend
from syngen_improve.testing import FakeAnthropicServer, FakeConfig


async def test_the_estimate_is_within_30_percent_of_the_run(
    shared_data: Path, tmp_path: Path
) -> None:
    src = shared_data / "scored_sample.jsonl"
    async with FakeAnthropicServer() as server:
        local = await estimate_cost(src, reask_share=0.0)
        assert server.counters.requests == 0  # nothing asked at all
        async with DirectBackend(api_key="sk-t", base_url=server.url) as backend:
            counted = await estimate_cost(src, counter=backend, reask_share=0.0)
            assert server.counters.count_tokens == server.counters.requests == 20
            run = await improve_dataset(src, tmp_path / "out", backend=backend,
                                        progress=False, concurrency=32)  # fmt: skip
    actual = run.report
    assert actual.requests.total == local.requests == 568  # the fault-free run: one each
    for estimate in (local, counted):
        assert estimate.cost_usd is not None
        assert abs(estimate.cost_usd / actual.cost_usd - 1) <= 0.30
        # Half price, but the one cache write at the 1-hour price (a batch's cache mark).
        assert estimate.batch_cost_usd is not None
        assert estimate.cost_usd / 2 < estimate.batch_cost_usd < estimate.cost_usd / 2 * 1.01
        assert estimate.cache["status"] == "active"
    assert (local.counted_by_api, counted.counted_by_api) == (False, True)
    # The prompt side is built as the run builds it. Counted locally (3.5 bytes a token,
    # on the cautious side) it is above what the server counted, by less than a fifth;
    # calibrated on the server's own counts of 20 requests it is within a few percent.
    assert 1.0 <= local.input_tokens / actual.tokens.input <= 1.2
    assert counted.input_tokens == pytest.approx(actual.tokens.input, rel=0.03)


async def test_an_unknown_model_has_no_price_and_says_so() -> None:
    with pytest.warns(UserWarning, match="no price is known for model 'my-model'"):
        found = await estimate_cost(sample_path(), model="my-model")
    assert found.cost_usd is None
    assert found.batch_cost_usd is None
    assert found.output_tokens > 0
    assert found.to_dict()["cost_usd"] is None


def test_the_cli_prints_one_json_object(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    assert main(["estimate", str(sample_path()), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"requests", "input_tokens", "output_tokens", "cost_usd", "batch_cost_usd"} <= set(out)
    assert out["examples"] == 120
    assert out["requests"] == 132  # 10% re-asked
    assert out["counted_by_api"] is False
    chat = tmp_path / "chat.jsonl"
    chat.write_text(json.dumps({"messages": [{"role": "user", "content": "hi"}]}) + "\n")
    assert main(["estimate", str(chat)]) == 2
    assert "nothing to improve" in capsys.readouterr().err


async def test_with_thinking_on_the_estimate_names_its_assumption_and_the_run_measures_it(
    tmp_path: Path,
) -> None:
    options: dict[str, Any] = {"thinking": "on", "effort": "high"}
    found = await estimate_cost(sample_path(), **options)
    assert found.thinking_tokens == 2500  # the capability table's assumption at high
    assert "assumed 2,500 thinking tokens a request" in found.summary()
    assert found.to_dict()["thinking_tokens_per_request"] == 2500
    without = await estimate_cost(sample_path())
    assert found.output_tokens == without.output_tokens + 2500 * found.requests
    config = FakeConfig(forced_tool_thinking="allow")
    async with (
        FakeAnthropicServer(config=config) as server,
        DirectBackend(api_key="sk-t", base_url=server.url) as backend,
    ):
        await improve_dataset(sample_path(), tmp_path / "out", backend=backend,
                              progress=False, **options)  # fmt: skip
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    thinking = report["thinking"]
    assert thinking["assumed_thinking_tokens"] == 2500
    assert thinking["measured_thinking_tokens"] > 0  # the fake's own figure, beside it


@pytest.mark.parametrize("options", [{"shard": "1/4"}, {"shard": "3/4", "limit": 200}])
async def test_the_estimate_counts_the_shard_the_run_improves(
    tmp_path: Path, options: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """One router for both: a shard's estimate is that shard's poor examples, not the
    whole file's."""
    whole = await estimate_cost(sample_path())
    found = await estimate_cost(sample_path(), **options)
    run = await improve_dataset(
        sample_path(), tmp_path / "out", backend="fake", progress=False, **options
    )
    assert found.examples == run.report.counts.poor
    assert found.examples < whole.examples / 2
    flags = [f"--{k}={v}" for k, v in options.items()]
    assert await asyncio.to_thread(main, ["estimate", str(sample_path()), "--json", *flags]) == 0
    assert json.loads(capsys.readouterr().out)["examples"] == run.report.counts.poor


async def test_the_estimate_leaves_out_what_dedupe_quarantines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = sample_path().read_bytes().splitlines(keepends=True)
    doubled = tmp_path / "doubled.jsonl"
    doubled.write_bytes(b"".join(lines + lines[:50]))  # 50 lines again, at the end
    plain = await estimate_cost(doubled)
    deduped = await estimate_cost(doubled, dedupe=True)
    run = await improve_dataset(doubled, tmp_path / "out", backend="fake", progress=False,
                                dedupe=True)  # fmt: skip
    assert deduped.examples == run.report.counts.poor
    assert run.report.counts.deduped == 50
    assert plain.examples > deduped.examples
    assert await asyncio.to_thread(main, ["estimate", str(doubled), "--json", "--dedupe"]) == 0
    assert json.loads(capsys.readouterr().out)["examples"] == run.report.counts.poor
