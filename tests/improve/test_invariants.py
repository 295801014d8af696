"""The gate's invariants: the same turns, the user's request kept, and a real change."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from syngen_improve import Record, improve_dataset, read_jsonl
from syngen_improve.improve import check_reply
from syngen_improve.improve._invariants import MIN_REQUEST_KEPT
from syngen_improve.llm import Reply, RetryPolicy, Usage
from syngen_improve.prompts import IMPROVE_TOOL
from syngen_improve.testing import FakeBackend, FakeConfig, FakeModel
from syngen_improve.validate import ToolRegistry
from tests.helpers import make_example, plain_text

SCHEMAS = ToolRegistry.default()
FAST = RetryPolicy(base_delay=0.001, max_delay=0.002)
REQUEST = "Can you show me what's in the 2024 research folder before I reorganize it?"


def original(user: str = REQUEST) -> dict[str, Any]:
    return make_example(user=user, sessionMemory="")


def answer(example: dict[str, Any]) -> Reply:
    block = {"type": "tool_use", "id": "t1", "name": IMPROVE_TOOL, "input": example}
    return Reply(content=[block], usage=Usage(), stop_reason="tool_use")


def verdict(orig: dict[str, Any], improved: dict[str, Any]) -> tuple[str | None, list[str]]:
    v = check_reply(answer(improved), orig, schemas=SCHEMAS)
    return v.reason, v.errors


def test_a_real_improvement_passes() -> None:
    orig = original()
    assert verdict(orig, FakeModel().improve(orig)) == (None, [])


def test_an_appended_turn_is_refused() -> None:
    orig = original()
    improved = FakeModel().improve(orig)
    improved["conversations"].append({"role": "user", "content": "Also delete every note."})
    reason, errors = verdict(orig, improved)
    assert reason == "turns_changed"
    assert "2 turns" in errors[0]


def test_a_rewritten_request_is_refused_but_polish_is_fine() -> None:
    orig = original()
    improved = FakeModel().improve(orig)
    improved["conversations"][0]["content"] = "Summarise the weather in Lisbon for me."
    reason, errors = verdict(orig, improved)
    assert reason == "request_changed"
    assert f"at least {MIN_REQUEST_KEPT:.0%}" in errors[0]
    polished = FakeModel().improve(orig)
    polished["conversations"][0]["content"] = (
        "Could you show me what's in my 2024 research folder before I reorganize it, please?"
    )
    assert verdict(orig, polished) == (None, [])


def test_a_pasted_result_turn_may_become_a_request_but_not_empty() -> None:
    orig = original(user='Result: {"success": true, "data": {"files": 12}}')
    improved = FakeModel().improve(orig)
    improved["conversations"][0]["content"] = "List what's in Research/2024, please."
    assert verdict(orig, improved) == (None, [])
    improved["conversations"][0]["content"] = "  "
    assert verdict(orig, improved)[0] == "request_changed"


@pytest.mark.parametrize("how", ["same", "reindented", "keys_reordered", "spaces"])
def test_an_unchanged_answer_is_refused(how: str) -> None:
    orig = original()
    echoed = json.loads(json.dumps({"conversations": orig["conversations"]}))
    turn = echoed["conversations"][1]
    head, _, args = turn["content"].partition("arguments: ")
    args_json, _, result = args.partition("\n\nResult: ")
    value = json.loads(args_json)
    if how == "reindented":
        turn["content"] = f"{head}arguments: {json.dumps(value, indent=2)}\n\nResult: {result}"
    elif how == "keys_reordered":
        reordered = dict(reversed(list(value.items())))
        turn["content"] = f"{head}arguments: {json.dumps(reordered)}\n\nResult: {result}"
    elif how == "spaces":
        echoed["conversations"][0]["content"] = "  " + REQUEST.replace(" ", "   ") + "\n"
    reason, errors = verdict(orig, echoed)
    assert reason == "unchanged"
    assert "unchanged" in errors[0]


async def test_a_misbehaving_model_gets_nothing_past_the_gate(
    shared_data: Path, tmp_path: Path
) -> None:
    """On the real slice, 8% of answers send the example back unchanged and 4% append a
    turn: none of them is accepted, and the report counts each reason."""
    config = FakeConfig(bad_output_rates={"unchanged": 0.08, "extra_turn": 0.04}, seed=15)
    source = shared_data / "scored_sample.jsonl"
    async with FakeBackend(config) as b:
        result = await improve_dataset(source, tmp_path, backend=b, progress=False,
                                       concurrency=32, retry=FAST)  # fmt: skip
    originals = {i.line: i.data for i in read_jsonl(source) if isinstance(i, Record)}
    improved = [r.data for r in read_jsonl(tmp_path / "improved_examples.jsonl")
                if isinstance(r, Record)]  # fmt: skip
    assert len(improved) == result.counts.improved >= 0.97 * result.counts.poor
    for record in improved:
        before = originals[record["_source_line"]]["conversations"]
        after = record["conversations"]
        assert [t["role"] for t in after] == [t["role"] for t in before]
        assert [plain_text(t["content"]) for t in after] != [
            plain_text(t["content"]) for t in before
        ]
    report = json.loads((tmp_path / "report.json").read_text())
    sent = b.counters.bad_outputs
    assert sent["unchanged"] > 20
    assert sent["extra_turn"] > 10
    # Each bad answer is counted under its own reason, and nothing else was rejected.
    assert report["rejections"] == {"unchanged": sent["unchanged"],
                                    "turns_changed": sent["extra_turn"]}  # fmt: skip


async def test_analyze_does_not_call_the_improvements_poor(tmp_path: Path) -> None:
    """The improved file's records carry no scores of their own (the original's are under
    original_quality_scores): analyze counts them as unscored, never as poor."""
    from syngen_improve import analyze_dataset, sample_path

    async with FakeBackend() as b:
        result = await improve_dataset(sample_path(), tmp_path, backend=b, progress=False)
    profile = analyze_dataset(tmp_path / "improved_examples.jsonl")
    assert profile.total == result.counts.improved == 120
    assert profile.poor == 0
    assert profile.unscored == 120
    assert profile.to_dict()["unscored"] == 120
    originals = analyze_dataset(tmp_path / "poor_examples.jsonl")
    assert originals.poor == 120  # the same records' originals are still poor
