"""The shared system prompt: built to be cached (its size against the model's floor), its
worked examples, its tool catalogue; and, on the real slice against a fake that enforces the
floor, the cache is used."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syngen_improve import ToolRegistry, detect_structural, improve_dataset, validate_example
from syngen_improve.context import NO_CONTEXT, SEVEN_FIELDS
from syngen_improve.dialects import read_text
from syngen_improve.llm import DEFAULT_MODEL
from syngen_improve.llm._models import cache_floor
from syngen_improve.prompts import Templates, improve_tool
from syngen_improve.prompts._system import (
    CacheCheck,
    _examples,
    check_cache,
    examples_text,
    system_prompt,
)


def test_the_worked_examples_are_what_they_teach() -> None:
    """Each "after" passes the strict profile with no issue found; each "before" shows the
    issue its example is about."""
    examples = _examples()
    assert len(examples) == 5
    for example in examples:
        after = {"conversations": example["after"], "label": True}
        assert validate_example(after, profile="strict") == [], example["kind"]
        assert detect_structural(after) == {}, example["kind"]
        before = {"conversations": example["before"], "label": False}
        assert example["kind"] in detect_structural(before), example["kind"]


def test_the_seven_field_prompt_clears_the_floor_with_the_margin() -> None:
    system = system_prompt(Templates.default(), SEVEN_FIELDS, ToolRegistry.default())
    check = check_cache(DEFAULT_MODEL, system, [improve_tool()])
    assert check.floor == cache_floor(DEFAULT_MODEL)[0] == 4096
    assert check.status == "active"
    assert check.reason is None
    assert check.prefix_tokens >= 4096 * 1.2
    assert "agentManager_listAgents" in system  # the catalogue
    assert system.count("Before:\n") == 5


def test_other_conventions_get_the_examples_that_need_no_context() -> None:
    text = examples_text(NO_CONTEXT)
    assert text.count("Before:\n") == 2
    calls = [c for block in text.split("\n") if block.startswith('{"conversations"')
             for c in read_text(json.loads(block)).calls]  # fmt: skip
    assert calls
    assert not any("context" in c.arguments for c in calls)
    system = system_prompt(Templates.default(), NO_CONTEXT, None)
    check = check_cache(DEFAULT_MODEL, system, [improve_tool()])
    assert check.status == "inactive"
    assert check.reason is not None
    assert "below an assumed (undocumented) minimum of 4,096" in check.reason


@pytest.mark.parametrize(("tokens", "status"), [(5000, "active"), (4500, "uncertain"),
                                                 (4000, "inactive")])  # fmt: skip
def test_cache_status_against_floor_and_margin(tokens: int, status: str) -> None:
    check = CacheCheck("claude-haiku-4-5", tokens, 4096, True)
    assert check.status == status
    assert (check.reason is None) == (status == "active")
    if check.reason:
        assert "its documented minimum of 4,096 for claude-haiku-4-5" in check.reason


async def test_the_real_slice_is_served_from_the_cache(shared_data: Path, tmp_path: Path) -> None:
    """Against a fake that caches nothing below the model's floor (tools, then system, up
    to the mark): no request falls below it, most input is read from the cache, and the
    report's figures are the fake's."""
    from syngen_improve.llm import DirectBackend
    from syngen_improve.testing import FakeAnthropicServer

    async with FakeAnthropicServer() as server:
        async with DirectBackend(api_key="sk-t", base_url=server.url) as backend:
            src = shared_data / "scored_sample.jsonl"
            result = await improve_dataset(src, tmp_path / "out", backend=backend,
                                           progress=False, concurrency=32)  # fmt: skip
        seen = server.counters
    report = result.report.to_dict()
    assert report["counts"]["poor"] == 568
    assert seen.below_cache_floor == 0
    tokens = report["tokens"]
    assert tokens == {"input": seen.input_tokens, "output": seen.output_tokens,
                      "cache_read": seen.cache_read_tokens,
                      "cache_creation": seen.cache_creation_tokens}  # fmt: skip
    cache = report["cache"]
    assert cache["status"] == "active"
    assert cache["read_tokens"] == seen.cache_read_tokens
    assert cache["read_share"] >= 0.5
    assert "input served from the cache" in (tmp_path / "out" / "report.md").read_text()
