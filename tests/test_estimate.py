"""``estimate``: a run's cost before it costs anything, within 30% of the run itself, with
no Messages request (a sample counted by ``count_tokens`` when a key is set)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syngen_improve import improve_dataset, sample_path
from syngen_improve.cli import main
from syngen_improve.estimate import estimate_cost
from syngen_improve.llm import DirectBackend
from syngen_improve.testing import FakeAnthropicServer


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
        assert estimate.batch_cost_usd == pytest.approx(estimate.cost_usd / 2)
        assert estimate.cache["status"] == "active"
    assert (local.counted_by_api, counted.counted_by_api) == (False, True)
    # The prompt side is built as the run builds it: the same input tokens
    assert local.input_tokens == actual.tokens.input


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
