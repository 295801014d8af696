from __future__ import annotations

from pathlib import Path

import pytest

from syngen_improve import SeedPolicy, analyze_dataset, sample_path
from syngen_improve.analyze import STRUCTURAL_KINDS, ProfileBuilder
from tests.helpers import make_example


def test_acceptance_figures_on_the_real_sample(shared_data: Path) -> None:
    p = analyze_dataset(shared_data / "scored_sample.jsonl")
    assert p.total == 899
    assert [m.line for m in p.malformed] == [613]
    assert (p.poor, p.good) == (568, 331)
    means = [
        round(p.means_poor[k] or 0.0, 2)
        for k in (
            "sessionMemory_quality",
            "toolContext_quality",
            "goal_coherence",
            "response_realism",
            "prompt_naturalness",
            "overall_quality",
        )
    ]
    assert means == [1.96, 2.16, 3.15, 1.69, 3.77, 2.55]
    assert p.issues_notes == {
        "empty_session_memory": 213,
        "generic_tool_context": 294,
        "missing_result": 397,
        "weak_goals": 59,
        "unnatural_prompt": 57,
    }
    assert len(p.tools) == 47
    assert sorted(p.agents) == [
        "agentManager", "contentManager", "memoryManager", "vaultLibrarian", "vaultManager",
    ]  # fmt: skip
    assert sum(p.tools.values()) == 903
    assert set(p.issues_structural) == set(STRUCTURAL_KINDS)
    assert p.relabeled == 568  # every label in the slice is true


def test_json_form_has_the_contract_keys(shared_data: Path) -> None:
    d = analyze_dataset(shared_data / "scored_sample.jsonl").to_dict()
    for key in (
        "total", "malformed", "good", "poor", "means_poor", "means_all",
        "issues_notes", "issues_structural", "tools", "agents",
    ):  # fmt: skip
        assert key in d
    assert d["malformed"][0]["line"] == 613
    assert "expected" in d["malformed"][0]["error"]


def test_bundled_sample() -> None:
    p = analyze_dataset(sample_path())
    assert (p.total, p.poor, p.good) == (199, 120, 79)
    assert [m.line for m in p.malformed] == [113]


def test_policy_changes_the_split(tmp_path: Path) -> None:
    lenient = analyze_dataset(sample_path(), policy=SeedPolicy(overall_below=2.0))
    assert lenient.poor < 120


def test_builder_counts_and_means() -> None:
    b = ProfileBuilder()
    poor = make_example(sessionMemory="", scores={"overall_quality": 2.0, "goal_coherence": 2})
    good = make_example(scores={"overall_quality": 4.0, "goal_coherence": 4})
    assert b.add(poor) is True
    assert b.add(good) is False
    assert b.add({"conversations": []}) is False
    p = b.build()
    assert (p.total, p.poor, p.good, p.relabeled) == (3, 1, 2, 1)
    assert p.means_poor["overall_quality"] == 2.0
    assert p.means_all["goal_coherence"] == 3.0
    assert p.means_all["response_realism"] is None
    assert p.issues_structural["empty_session_memory"] == 1
    assert p.tools == {"vaultManager_listDirectory": 2}
    assert p.agents == {"vaultManager": 2}


def test_table_shows_notes_and_structural_side_by_side(shared_data: Path) -> None:
    profile = analyze_dataset(shared_data / "scored_sample.jsonl")
    text = profile.format_table()
    assert "line 613: malformed" in text
    row = next(line for line in text.splitlines() if line.startswith("missing_result"))
    assert row.split()[1:] == ["397", str(profile.issues_structural["missing_result"])]


@pytest.mark.parametrize("content", [b"", b"\n\n"])
def test_empty_input(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(content)
    p = analyze_dataset(path)
    assert (p.total, p.poor, p.malformed) == (0, 0, [])
    assert "examples           0" in p.format_table()


def test_add_with_issues_returns_what_the_profile_counted() -> None:
    from syngen_improve.analyze import ProfileBuilder, detect_from_notes, detect_structural
    from tests.helpers import make_example

    builder = ProfileBuilder()
    poor = make_example(sessionMemory="", scores={"overall_quality": 2.0})
    good = make_example(scores={"overall_quality": 4.5, "sessionMemory_quality": 4})
    is_poor, kinds = builder.add_with_issues(poor)
    assert is_poor
    assert kinds == frozenset(detect_structural(poor)) | frozenset(detect_from_notes(poor))
    assert "empty_session_memory" in kinds
    assert builder.add_with_issues(good) == (False, frozenset())
    assert builder.build().issues_structural["empty_session_memory"] == 1
