"""The fake's rule-based model: improvements pass strict validation; scores follow issues."""

from __future__ import annotations

from pathlib import Path

from syngen_improve import Record, read_jsonl, sample_path
from syngen_improve._model import iter_tool_calls
from syngen_improve.analyze import detect_structural
from syngen_improve.testing import FakeModel
from syngen_improve.validate import ToolRegistry, validate_example
from syngen_improve.validate._rules import example_fails


def test_every_real_example_improves_to_a_strictly_valid_one(shared_data: Path) -> None:
    model = FakeModel()
    schemas = ToolRegistry.default()
    examples = [r for r in read_jsonl(shared_data / "scored_sample.jsonl") if isinstance(r, Record)]
    assert len(examples) == 899
    failing = []
    for rec in examples:
        improved = model.improve(rec.data)
        issues = validate_example(improved, profile="strict", schemas=schemas, line=rec.line)
        if example_fails(improved, issues) or detect_structural(improved):
            failing.append(rec.line)
        assert model.judge(improved)["overall_quality"] >= model.judge(rec.data)["overall_quality"]
    assert failing == []


def test_improvement_is_deterministic_and_keeps_the_tools() -> None:
    model = FakeModel()

    rec = next(r for r in read_jsonl(sample_path()) if isinstance(r, Record))
    first, second = model.improve(rec.data), model.improve(rec.data)
    assert first == second
    names = [c.name for _, c in iter_tool_calls(first)]
    original = [c.name for _, c in iter_tool_calls(rec.data)]
    assert names == original
    assert first["label"] is True
    assert rec.data["conversations"] != first["conversations"]
