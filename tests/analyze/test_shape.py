"""Objects that are not shaped like an example are named, apart from malformed lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syngen_improve.analyze import shape_problem
from syngen_improve.cli import main
from tests.helpers import make_example


def test_shape_problems_are_named() -> None:
    assert shape_problem(make_example()) is None
    assert "'conversations' is not a list" in str(shape_problem({"conversations": "hi"}))
    assert "'conversations' is not a list" in str(
        shape_problem({"conversations": [{"role": "user", "content": 3}]})
    )
    scores = {"overall_quality": "2.0", "sessionMemory_quality": 1}
    assert "quality_scores.overall_quality is '2.0'" in str(
        shape_problem(make_example(scores=scores))
    )
    assert "not an object" in str(shape_problem({**make_example(), "quality_scores": [1]}))


def test_analyze_lists_invalid_examples_apart_from_malformed_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "in.jsonl"
    scores = {"overall_quality": "2.0", "sessionMemory_quality": 1}
    rows = [make_example(), make_example(scores=scores), {"conversations": "x"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "not json\n")
    assert main(["analyze", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["total"] == 1
    assert [m["line"] for m in out["malformed"]] == [4]
    assert [(i["line"], "not a number" in i["error"]) for i in out["invalid"]] == [
        (2, True),
        (3, False),
    ]
