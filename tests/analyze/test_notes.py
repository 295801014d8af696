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


def test_issues_to_fix_come_from_low_scores_and_notes_only_where_unscored() -> None:
    """A dimension scored 2 or less is an issue to fix whatever the notes say; one scored
    higher is not, even when the notes' keywords match (the noisy rule); an unscored one
    falls back to the notes."""
    from syngen_improve.analyze._notes import issues_to_fix

    notes = "The prompt is natural, unlike a Result object pasted in. No Result shown."
    scored = {"quality_scores": {"notes": notes, "prompt_naturalness": 5,
                                 "response_realism": 2, "toolContext_quality": 4}}  # fmt: skip
    assert issues_to_fix(scored, ["weak_goals"]) == {"weak_goals", "missing_result"}
    unscored = {"quality_scores": {"notes": notes}}
    assert issues_to_fix(unscored, []) == {"unnatural_prompt", "missing_result"}
    assert issues_to_fix({}, ["missing_context"]) == {"missing_context"}


def test_issue_kinds_leave_out_fields_the_convention_lacks() -> None:
    from syngen_improve.analyze import issue_kinds
    from syngen_improve.context import NO_CONTEXT
    from tests.helpers import make_example

    ex = make_example(sessionMemory="")
    ex["quality_scores"] = {"sessionMemory_quality": 1, "response_realism": 1}
    assert {"empty_session_memory", "missing_result"} <= issue_kinds(ex)
    assert issue_kinds(ex, context=NO_CONTEXT) == {"missing_result"}
