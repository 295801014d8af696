"""The judge: request shape, our own overall score, the cache, re-asks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2
import pytest

from syngen_improve import Record, read_jsonl, sample_path
from syngen_improve._model import DIMENSIONS
from syngen_improve._text import find_example
from syngen_improve.judge import (
    JUDGE_TOOL,
    Judge,
    JudgeError,
    judge_dataset,
    scores_from_reply,
)
from syngen_improve.llm import (
    AnthropicBackend,
    DirectBackend,
    Engine,
    Reply,
    ResponseCache,
    RetryPolicy,
    Thinking,
    Usage,
)
from syngen_improve.testing import FakeAnthropic, FakeAnthropicServer, FakeConfig
from tests.helpers import make_example


def in_process(fake: FakeAnthropic, cache: ResponseCache | None = None) -> Engine:
    client = httpx2.AsyncClient(transport=fake.transport())
    backend = AnthropicBackend(api_key="k", base_url="http://fake", http_client=client)
    return Engine(backend, retry=RetryPolicy(base_delay=0.001), responses=cache)


def scores_reply(**values: Any) -> Reply:
    data = {"notes": "n", **dict.fromkeys(DIMENSIONS, 3), "overall_quality": 4.9, **values}
    block = {"type": "tool_use", "id": "t", "name": JUDGE_TOOL, "input": data}
    return Reply(content=[block], usage=Usage())


def test_request_matches_the_model_io_contract() -> None:
    fake = FakeAnthropic()
    judge = Judge(in_process(fake))
    example = make_example()
    example["quality_scores"] = {"overall_quality": 1.0}
    body = judge.request(example).body("claude-haiku-5-5")
    assert body["tool_choice"] == {"type": "tool", "name": "submit_scores"}
    (tool,) = body["tools"]
    schema = tool["input_schema"]
    assert next(iter(schema["properties"])) == "notes"  # notes first, then the scores
    assert set(schema["required"]) == {"notes", *DIMENSIONS, "overall_quality"}
    # The judge's prompt is below every model's cache floor: not marked, so it is counted
    assert "cache_control" not in body["system"][-1]
    sent = find_example(body["messages"][0]["content"])
    assert sent == {"conversations": example["conversations"]}  # no label, no old scores


def test_overall_is_computed_not_trusted() -> None:
    scores = scores_from_reply(scores_reply(goal_coherence=5, response_realism=1))
    assert scores["overall_quality"] == 3.0
    assert next(iter(scores)) == "notes"
    for bad in ({"goal_coherence": 6}, {"goal_coherence": "4"}, {"goal_coherence": 2.5}):
        with pytest.raises(JudgeError):
            scores_from_reply(scores_reply(**bad))
    with pytest.raises(JudgeError, match="no 'submit_scores' call"):
        scores_from_reply(Reply(content=[{"type": "text", "text": "4/5"}], usage=Usage()))


async def test_the_response_cache_serves_repeats_without_a_request(tmp_path: Path) -> None:
    fake = FakeAnthropic()
    example = make_example(sessionMemory="")
    with ResponseCache(tmp_path / "cache") as cache:
        judge = Judge(in_process(fake, cache))
        first = await judge.score(example)
        # What the judge sees is the conversations: label and old scores do not matter.
        again = await judge.score({**example, "label": False, "quality_scores": {}})
        assert first == again
        assert (fake.counters.requests, judge.engine.stats.cached) == (1, 1)
    with ResponseCache(tmp_path / "cache") as reopened:
        assert await Judge(in_process(fake, reopened)).score(example) == first
        assert fake.counters.requests == 1
        await Judge(in_process(fake, reopened), system="Other rubric").score(example)
        assert fake.counters.requests == 2  # a different rubric is a different request


async def test_a_bad_answer_is_asked_again_once(tmp_path: Path) -> None:
    """The re-ask is the same request: it is sent, never answered by the bad answer the
    response cache kept, and the good answer replaces it there."""
    fake = FakeAnthropic(FakeConfig(first_bad_outputs=["wrong_tool"]))
    with ResponseCache(tmp_path / "cache") as cache:
        engine = in_process(fake, cache)
        scores = await Judge(engine).score(make_example())
        assert fake.counters.requests == 2
        assert scores["sessionMemory_quality"] == 5
        assert await Judge(engine).score(make_example()) == scores
        assert (fake.counters.requests, engine.stats.cached) == (2, 1)
    always = FakeAnthropic(FakeConfig(bad_output_rates={"wrong_tool": 1.0}))
    with pytest.raises(JudgeError):
        await Judge(in_process(always), answers=2).score(make_example())
    assert always.counters.requests == 2
    await engine.backend.aclose()


async def test_judge_dataset_twice_costs_one_pass(tmp_path: Path) -> None:
    out = tmp_path / "scored.jsonl"
    async with FakeAnthropicServer() as server:
        backend = AnthropicBackend(api_key="k", base_url=server.url)
        first = await judge_dataset(sample_path(), out, backend=backend, progress=False)
        second = await judge_dataset(sample_path(), out, backend=backend, progress=False)
        await backend.aclose()
    assert (first.judged, first.malformed, first.cached) == (199, 1, 0)
    assert second.cached == 199
    assert server.counters.requests == 199  # the second pass made none
    assert second.means == first.means
    rows = [r.data for r in read_jsonl(out) if isinstance(r, Record)]
    assert len(rows) == 199
    assert all(set(DIMENSIONS) <= set(r["quality_scores"]) for r in rows)
    assert sorted(r["_source_line"] for r in rows) == [n for n in range(1, 201) if n != 113]
    assert json.loads(json.dumps(first.to_dict()))["requests"]["total"] == 199


async def test_a_refused_run_leaves_the_old_output_as_it_was(tmp_path: Path) -> None:
    """``judge --out existing.jsonl`` with a key the server refuses: the old file is intact
    (the new one is written under a temporary name and put in place on success)."""
    from syngen_improve.errors import ServiceRefused
    from syngen_improve.llm import DirectBackend

    out = tmp_path / "scored.jsonl"
    out.write_bytes(b'{"kept": true}\n')
    async with (
        FakeAnthropicServer(config=FakeConfig(api_key="sk-right")) as server,
        DirectBackend(api_key="sk-wrong", base_url=server.url) as backend,
    ):
        with pytest.raises(ServiceRefused):
            await judge_dataset(sample_path(), out, backend=backend, progress=False)
        assert out.read_bytes() == b'{"kept": true}\n'
        assert [p.name for p in tmp_path.iterdir()] == ["scored.jsonl"]  # no partial left
        backend = DirectBackend(api_key="sk-right", base_url=server.url)
        async with backend:
            done = await judge_dataset(sample_path(), out, backend=backend, progress=False)
    assert done.judged == 199
    assert len(out.read_bytes().splitlines()) == 199


def test_scores_given_with_other_thinking_settings_are_cached_apart() -> None:
    """The response cache's key is the request as sent: thinking and effort included."""
    backend = DirectBackend(api_key="k", base_url="http://127.0.0.1:9")

    def key(engine: Engine) -> bytes:
        return engine._key(engine.shape.apply(Judge(engine).request(make_example())))

    default = key(Engine(backend))
    assert default != key(Engine(backend, thinking=Thinking("on", "high")))
    assert default == key(Engine(backend, thinking=Thinking()))


async def test_a_judge_answer_cut_short_is_asked_again_with_twice_the_room(
    tmp_path: Path,
) -> None:
    config = FakeConfig(first_bad_outputs=["truncated_tool"])
    bodies = tmp_path / "bodies.jsonl"
    async with FakeAnthropicServer(config=config, record=str(bodies)) as server:
        backend = AnthropicBackend(api_key="k", base_url=server.url)
        judge = Judge(Engine(backend, retry=RetryPolicy(base_delay=0.001)))
        scores = await judge.score(make_example())
        await backend.aclose()
    assert set(DIMENSIONS) <= set(scores)
    sent = [json.loads(line)["max_tokens"] for line in bodies.read_text().splitlines()]
    assert sent == [1024, 2048]
