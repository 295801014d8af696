"""Claude 5.x as documented: thinking on by default, a forced tool refused (or allowed)
while the model thinks, effort, refusals, truncated tool input, the newer tokenizer, the
x-api-key-only gateway, a per-minute low tier, a cache the server never reads. Each
scenario runs real poor examples of the slice against the fake in that mode."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import orjson
import pytest

from syngen_improve import improve_dataset
from syngen_improve.errors import CacheWarning, ModelWarning, UsageError
from syngen_improve.llm import (
    DirectBackend,
    Engine,
    Request,
    RetryPolicy,
    Thinking,
    ThinkingWarning,
)
from syngen_improve.llm._models import model_info
from syngen_improve.llm._thinking import RequestShape
from syngen_improve.testing import FakeAnthropicServer, FakeConfig

FAST = RetryPolicy(base_delay=0.01, max_delay=0.05)


def poor_rows(shared_data: Path, out: Path, count: int) -> Path:
    """The first ``count`` poor rows of the real slice (the seed's policy), as a file."""
    rows = []
    for line in (shared_data / "scored_sample.jsonl").read_text().splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        scores = row.get("quality_scores") or {}
        if scores.get("overall_quality", 5) < 3.0 or scores.get("sessionMemory_quality") == 1:
            rows.append(line)
        if len(rows) == count:
            break
    out.write_text("\n".join(rows) + "\n")
    return out


async def run(
    src: Path, out: Path, config: FakeConfig, **options: Any
) -> tuple[Any, dict[str, Any]]:
    async with (
        FakeAnthropicServer(config=config) as server,
        DirectBackend(api_key="sk-t", base_url=server.url,
                      model=options.pop("model", "claude-haiku-5-5")) as backend,
    ):  # fmt: skip
        result = await improve_dataset(src, out, backend=backend, progress=False, retry=FAST,
                                       **options)  # fmt: skip
        return result, server.counters.snapshot()


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def report_json(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads((out / "report.json").read_bytes())
    return data


# -- what a request says ---------------------------------------------------------------


def shaped(model: str, **asked: Any) -> dict[str, Any]:
    request = Request(messages=[{"role": "user", "content": "x"}], tools=[{"name": "t"}],
                      tool_choice="t", max_tokens=1000)  # fmt: skip
    body: dict[str, Any] = (
        RequestShape(model_info(model), Thinking(**asked)).apply(request).body(model)
    )
    return body


def test_by_default_a_thinking_model_is_told_not_to_think_and_its_tool_stays_forced() -> None:
    body = shaped("claude-haiku-5-5")
    assert body["thinking"] == {"type": "disabled"}
    assert body["tool_choice"] == {"type": "tool", "name": "t"}
    assert "output_config" not in body
    assert body["max_tokens"] == 1000
    # Haiku 4.5 does not think unless asked: nothing is sent about it.
    assert "thinking" not in shaped("claude-haiku-4-5")


def test_thinking_on_lets_the_model_choose_the_tool_and_adds_the_budget() -> None:
    body = shaped("claude-haiku-5-5", mode="on", effort="high")
    assert body["thinking"] == {"type": "adaptive"}
    assert body["output_config"] == {"effort": "high"}
    assert body["tool_choice"] == {"type": "auto"}  # valid under both readings of the docs
    assert "calling the tool t" in body["system"][-1]["text"]
    assert body["max_tokens"] == 1000 + 16384
    # An effort at which the model cannot stop thinking turns it on (auto), never 'disabled'.
    assert shaped("claude-haiku-5-5", effort="max")["thinking"] == {"type": "adaptive"}
    # Extended thinking (Haiku 4.5) takes a budget; a 5.x model never gets one.
    assert shaped("claude-haiku-4-5", mode="on")["thinking"]["type"] == "enabled"
    assert shaped("claude-opus-5-5")["thinking"] == {"type": "adaptive"}  # always thinks


def test_a_batch_marks_its_cache_for_an_hour_in_either_encoding() -> None:
    request = Request(messages=[{"role": "user", "content": "x"}], system="rubric",
                      tools=[{"name": "t"}], tool_choice="t", max_tokens=100)  # fmt: skip
    hour = RequestShape(model_info("claude-haiku-5-5"), ttl="1h").apply(request)
    body = hour.body("claude-haiku-5-5")
    assert body["system"][0]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}
    assert orjson.loads(hour.encoded_body("claude-haiku-5-5")) == body
    online = RequestShape(model_info("claude-haiku-5-5")).apply(request)
    assert online.body("claude-haiku-5-5")["system"][0]["cache_control"] == {"type": "ephemeral"}
    thinking = RequestShape(model_info("claude-haiku-5-5"), Thinking("on")).apply(request)
    assert orjson.loads(thinking.encoded_body("claude-haiku-5-5")) == thinking.body(
        "claude-haiku-5-5"
    )


def test_what_a_model_cannot_do_is_refused_naming_the_option() -> None:
    with pytest.raises(UsageError, match=r"thinking=.*off: claude-haiku-5-5 cannot stop"):
        shaped("claude-haiku-5-5", mode="off", effort="xhigh")
    with pytest.raises(UsageError, match=r"effort=.*claude-haiku-4-5 takes no effort"):
        shaped("claude-haiku-4-5", effort="low")
    with pytest.raises(UsageError, match=r"effort=.*must be one of"):
        Thinking(effort="extreme")
    with pytest.raises(UsageError, match="cannot stop thinking at any effort"):
        shaped("claude-opus-5-5", mode="off")


# -- the default model, both readings ----------------------------------------------------


async def test_the_default_model_improves_with_forced_tools_refused(
    shared_data: Path, tmp_path: Path
) -> None:
    """Thinking on by default and a forced tool refused while it thinks (the strict
    reading): every improvement passes, no request is refused."""
    src = poor_rows(shared_data, tmp_path / "in.jsonl", 80)
    result, seen = await run(src, tmp_path / "out", FakeConfig(forced_tool_thinking="refuse"))
    assert result.counts.improved >= 78
    assert result.counts.retryable == 0
    assert seen["thinking_refused"] <= 1
    assert seen["thinking_answers"] == 0  # it was told not to think, and did not
    report = report_json(tmp_path / "out")
    assert report["thinking"]["thinking"] == "disabled"
    assert report["tokens"]["output"] == seen["output_tokens"]


async def test_forced_tools_allowed_with_the_judge(shared_data: Path, tmp_path: Path) -> None:
    src = poor_rows(shared_data, tmp_path / "in.jsonl", 80)
    config = FakeConfig(forced_tool_thinking="allow")
    result, seen = await run(src, tmp_path / "out", config, judge=True)
    assert result.counts.improved >= 78
    records = lines(tmp_path / "out/improved_examples.jsonl")
    assert all(r["quality_scores"].get("scored_by") == "judge" for r in records)
    assert all("original_judge_scores" in r for r in records)
    assert report_json(tmp_path / "out")["tokens"]["output"] == seen["output_tokens"]


async def test_effort_high_thinking_on_is_billed_counted_and_never_cut_short(
    shared_data: Path, tmp_path: Path
) -> None:
    src = poor_rows(shared_data, tmp_path / "in.jsonl", 80)
    config = FakeConfig(forced_tool_thinking="allow")
    result, seen = await run(src, tmp_path / "out", config, judge=True, effort="high",
                             thinking="on")  # fmt: skip
    assert result.counts.improved >= 78
    assert seen["thinking_answers"] > 0
    assert seen["thinking_tokens"] > 0
    assert seen["truncated"] == 0  # the thinking budget left room for every answer
    report = report_json(tmp_path / "out")
    assert report["tokens"]["output"] == seen["output_tokens"]  # thinking included
    thinking = report["thinking"]
    assert thinking["tool_choice"] == "auto"
    assert thinking["effort"] == "high"
    measured = seen["thinking_tokens"] / seen["thinking_answers"]
    assert thinking["measured_thinking_tokens"] == pytest.approx(measured, rel=0.15)
    shown = (tmp_path / "out/report.md").read_text()
    assert f"{thinking['measured_thinking_tokens']:,} thinking tokens an answer measured" in shown
    records = lines(tmp_path / "out/improved_examples.jsonl")
    assert all(r["quality_scores"].get("scored_by") == "judge" for r in records)


async def test_a_model_the_table_does_not_know_switches_once_on_its_refusal(
    shared_data: Path, tmp_path: Path
) -> None:
    """A new 5.x id (thinks by default in the fake, unknown to our table): the forced tool
    is refused once, the run switches to tool choice auto and goes on."""
    src = poor_rows(shared_data, tmp_path / "in.jsonl", 30)
    config = FakeConfig(forced_tool_thinking="refuse")
    with (
        pytest.warns(ModelWarning, match="not in the capability table"),
        pytest.warns(ThinkingWarning),
    ):
        result, seen = await run(src, tmp_path / "out", config, model="claude-haiku-5-7",
                                 price="0.10,0.50")  # fmt: skip
    assert result.counts.improved >= 29
    assert seen["thinking_refused"] == 1
    thinking = report_json(tmp_path / "out")["thinking"]
    assert thinking["refusals"] == 1
    assert thinking["tool_choice"] == "auto"
    assert "Thinking may not be enabled" in thinking["switched"]
    assert any("thinking settings changed" in w for w in report_json(tmp_path / "out")["warnings"])


# -- answers the model does not finish ---------------------------------------------------


async def test_refusals_fail_at_once_and_truncations_get_a_larger_budget(
    shared_data: Path, tmp_path: Path
) -> None:
    src = poor_rows(shared_data, tmp_path / "in.jsonl", 80)
    config = FakeConfig(bad_output_rates={"refusal": 0.06, "truncated_tool": 0.04}, seed=3)
    async with (
        FakeAnthropicServer(config=config, record=str(tmp_path / "bodies.jsonl")) as server,
        DirectBackend(api_key="sk-t", base_url=server.url) as backend,
    ):
        result = await improve_dataset(src, tmp_path / "out", backend=backend, progress=False,
                                       retry=FAST)  # fmt: skip
        seen = server.counters
    report = report_json(tmp_path / "out")
    failed = lines(tmp_path / "out/failed.jsonl")
    assert seen.refusals > 0
    assert seen.truncated > 0
    refused = [f for f in failed if f["reason"] == "refusal"]
    assert len(refused) == seen.refusals  # one request each: never re-asked
    assert all(f["attempts"] == 1 for f in refused)
    assert result.counts.improved + len(refused) == 80
    assert report["rejections"]["truncated"] == seen.truncated
    assert report["requests"]["total"] <= 1.6 * 80
    # Every truncated answer was asked again with twice the room.
    bodies = lines(tmp_path / "bodies.jsonl")
    budgets = sorted({b["max_tokens"] for b in bodies})
    assert budgets[0] == 8192
    assert 16384 in budgets


# -- money and tokens ---------------------------------------------------------------------


async def test_a_cache_the_server_never_reads_is_reported_not_read(
    shared_data: Path, tmp_path: Path
) -> None:
    src = poor_rows(shared_data, tmp_path / "in.jsonl", 20)
    with pytest.warns(CacheWarning, match="no cache read or write"):
        await run(src, tmp_path / "out", FakeConfig(cache_floor=10**9))
    cache = report_json(tmp_path / "out")["cache"]
    assert cache["status"] == "not_read"
    assert "no cache read or write" in cache["reason"]
    assert cache["read_tokens"] == cache["write_tokens"] == 0


async def test_capped_runs_end_with_a_report_never_a_wait(
    shared_data: Path, tmp_path: Path
) -> None:
    """--max-cost $0.03 on 300 rows at concurrency 32, eight times: each run stops as
    resumable with a report (the float residue once left workers waiting forever)."""
    from syngen_improve.llm import BudgetReached

    src = tmp_path / "in.jsonl"
    lines = (shared_data / "scored_sample.jsonl").read_text().splitlines()[:300]
    src.write_text("\n".join(lines) + "\n")
    for n in range(8):
        out = tmp_path / f"out{n}"
        config = FakeConfig(latency=0.002, jitter=0.01, seed=n)
        with pytest.raises(BudgetReached):
            await run(src, out, config, max_cost=0.03, concurrency=32)
        report = report_json(out)
        assert report["interrupted"] is True
        assert 0 < report["cost_usd"] <= 0.03


# -- gateways and tiers -----------------------------------------------------------------


async def test_a_gateway_that_reads_only_x_api_key(shared_data: Path, tmp_path: Path) -> None:
    src = poor_rows(shared_data, tmp_path / "in.jsonl", 80)
    result, _ = await run(src, tmp_path / "out", FakeConfig(auth="x-api-key"))
    assert result.counts.improved >= 78


async def test_a_per_window_tier_is_waited_out_without_giving_anything_up(
    shared_data: Path, tmp_path: Path
) -> None:
    """20 requests a window and no --rpm: the 429s at each window's end hold the pool until
    the window resets; no example is given up (the minute-long version of this, 45
    examples at 20 a minute, is in docs/llm.md's figures)."""
    src = poor_rows(shared_data, tmp_path / "in.jsonl", 45)
    config = FakeConfig(rpm=20, rpm_window=1.5)
    result, seen = await run(src, tmp_path / "out", config)
    assert (result.counts.improved, result.counts.failed) == (45, 0)
    assert seen["rate_limited"] > 0


def test_the_fake_refuses_what_the_docs_say_is_refused() -> None:
    """The fake's own rules (not ours): budget_tokens on a 5.x model, disabled at xhigh,
    an effort Haiku 4.5 does not take, a forced tool while thinking."""
    from syngen_improve.testing._models import rules_for, thinking_problem

    haiku = rules_for("claude-haiku-5-5")
    base = {"model": "claude-haiku-5-5", "max_tokens": 4000, "messages": []}
    enabled = {**base, "thinking": {"type": "enabled", "budget_tokens": 2000}}
    said = thinking_problem(enabled, haiku, forced_refused=True) or ""
    assert "use thinking.type.adaptive" in said
    xhigh = {**base, "thinking": {"type": "disabled"}, "output_config": {"effort": "xhigh"}}
    said = thinking_problem(xhigh, haiku, forced_refused=True) or ""
    assert "not supported with effort xhigh" in said
    forced = {**base, "tool_choice": {"type": "tool", "name": "t"}}
    assert "forces tool use" in (thinking_problem(forced, haiku, forced_refused=True) or "")
    assert thinking_problem(forced, haiku, forced_refused=False) is None
    h45 = rules_for("claude-haiku-4-5-20251001")
    effort = {**base, "model": "claude-haiku-4-5", "output_config": {"effort": "low"}}
    said = thinking_problem(effort, h45, forced_refused=True) or ""
    assert "does not support the effort" in said
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert thinking_problem({**forced, "model": "claude-haiku-4-5"}, h45,
                                forced_refused=True) is None  # fmt: skip


async def test_a_server_refusing_every_request_is_stopped_in_its_own_words() -> None:
    """A server that refuses every request: the stop quotes its message, not the network."""
    from syngen_improve.llm import BreakerPolicy, CircuitBreaker, RequestFailed, ServiceUnavailable

    config = FakeConfig(fault_rates={"400": 1.0})
    async with (
        FakeAnthropicServer(config=config) as server,
        DirectBackend(api_key="sk-t", base_url=server.url) as backend,
    ):
        engine = Engine(backend, retry=FAST, breaker=CircuitBreaker(BreakerPolicy(threshold=3)))
        for n in range(3):
            with pytest.raises(RequestFailed):
                await engine.complete(Request(messages=[{"role": "user", "content": str(n)}],
                                              max_tokens=100))  # fmt: skip
        with pytest.raises(ServiceUnavailable, match=r"last: HTTP 400 .*fault injected: refused"):
            await engine.complete(Request(messages=[{"role": "user", "content": "x"}],
                                          max_tokens=100))  # fmt: skip


def test_a_backend_that_cannot_send_thinking_never_forces_the_tool_of_a_thinking_model() -> None:
    """Chat completions have no thinking parameter: Haiku 5.5 thinks there as by default,
    so the shape plans tool choice auto and a thinking budget from the start; a model that
    does not think by default keeps its forced tool."""
    req = Request(messages=[{"role": "user", "content": "hi"}], system="S",
                  tools=[{"name": "t", "input_schema": {"type": "object"}}], tool_choice="t",
                  max_tokens=1000)  # fmt: skip
    shape = RequestShape(model_info("claude-haiku-5-5"), sends_thinking=False)
    sent = shape.apply(req)
    assert (sent.thinking, sent.force_tool) == (None, False)
    assert sent.max_tokens > 1000
    native = RequestShape(model_info("claude-haiku-5-5")).apply(req)
    assert (native.thinking, native.force_tool) == ({"type": "disabled"}, True)
    older = RequestShape(model_info("claude-haiku-4-5"), sends_thinking=False).apply(req)
    assert older.force_tool is True
