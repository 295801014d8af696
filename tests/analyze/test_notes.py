from __future__ import annotations

import pytest

from syngen_improve import detect_from_notes


def _with_notes(notes: object) -> dict[str, object]:
    return {"quality_scores": {"notes": notes}}


@pytest.mark.parametrize(
    ("notes", "kinds"),
    [
        ("sessionMemory is empty string '' earning score=1", ["empty_session_memory"]),
        ('The sessionMemory: "" field', ["empty_session_memory"]),
        ("sessionMemory: [] again", ["empty_session_memory"]),
        ("toolContext is Generic", ["generic_tool_context"]),
        ("No Result shown", ["missing_result"]),
        ("Missing Result object", ["missing_result"]),
        ("primaryGoal and subgoal are too similar", ["weak_goals"]),
        ("primaryGoal is fine, the subgoal is weak", ["weak_goals"]),
        ("Prompt is unnatural", ["unnatural_prompt"]),
        ("The prompt is a Result object pasted in", ["unnatural_prompt"]),
        ("Everything specific and well reasoned.", []),
        ("generic wording overall", []),  # "generic" without toolContext
        ("subgoal is weak", []),  # needs primaryGoal too
    ],
)
def test_keyword_rules(notes: str, kinds: list[str]) -> None:
    assert detect_from_notes(_with_notes(notes)) == kinds


def test_no_notes() -> None:
    assert detect_from_notes({}) == []
    assert detect_from_notes(_with_notes(None)) == []
    assert detect_from_notes({"quality_scores": "x"}) == []
