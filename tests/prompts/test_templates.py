"""Prompt templates: bundled defaults, overrides by text or path, validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from syngen_improve.analyze import STRUCTURAL_KINDS
from syngen_improve.context import NO_CONTEXT, SEVEN_FIELDS, ContextConvention
from syngen_improve.errors import InvalidInput
from syngen_improve.prompts import ISSUE_BLOCKS, Templates


def test_defaults_cover_every_detected_issue_kind() -> None:
    t = Templates.default()
    assert set(ISSUE_BLOCKS) == set(STRUCTURAL_KINDS)
    assert set(t.issues) == set(ISSUE_BLOCKS)
    assert "sessionMemory" in t.system_for(SEVEN_FIELDS)
    assert "submit_improved_example" in t.system
    assert "{errors}" in t.reask


def test_instructions_only_for_detected_kinds_each_once() -> None:
    t = Templates.default()
    assert t.instructions(set()) == []
    blocks = t.instructions({"missing_result", "missing_context", "malformed_ids"})
    assert len(blocks) == 2  # the three structure kinds share one block
    assert "Result:" in blocks[0]


def test_override_by_text_and_by_path(tmp_path: Path) -> None:
    path = tmp_path / "memory.md"
    path.write_text("MEMORY BLOCK")
    t = Templates.default().override(
        system="SYSTEM TEXT",
        issues={"empty_session_memory": path},
        reask=str(path.with_name("r")) + " {errors}",
    )
    assert t.system == "SYSTEM TEXT"
    assert t.issues["empty_session_memory"] == "MEMORY BLOCK"
    assert t.reask_text(["a", "b"]).endswith("- a\n- b")
    assert t.issues["missing_result"] == Templates.default().issues["missing_result"]


def test_from_dir_replaces_files_found(tmp_path: Path) -> None:
    (tmp_path / "system.md").write_text("Our own system prompt.")
    (tmp_path / "issue_goals.md").write_text("GOALS")
    t = Templates.from_dir(tmp_path)
    assert t.system == "Our own system prompt."
    assert t.issues["weak_goals"] == "GOALS"
    assert t.reask == Templates.default().reask
    with pytest.raises(FileNotFoundError, match="templates folder"):
        Templates.from_dir(tmp_path / "missing")


def test_validation() -> None:
    with pytest.raises(ValueError, match="empty"):
        Templates(system=" ")
    with pytest.raises(ValueError, match="'\\{errors\\}'"):
        Templates(system="s", reask="no placeholder")
    with pytest.raises(ValueError, match="unknown issue kind"):
        Templates(system="s", issues={"typo": "x"})


def test_a_template_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    (tmp_path / "system.md").write_bytes(b"R\xe9sum\xe9 of the rules\n")  # Latin-1
    with pytest.raises(InvalidInput, match=r"template .*system\.md is not UTF-8 text"):
        Templates.from_dir(tmp_path)


def test_system_prompt_follows_the_context_convention() -> None:
    t = Templates.default()
    seven = t.system_for(SEVEN_FIELDS)
    assert "{context_convention}" not in seven
    assert "`sessionId` (`session_`" in seven
    assert "sessionMemory:" in seven
    plain = t.system_for(NO_CONTEXT)
    assert "{context_convention}" not in plain
    assert "\n\n\n" not in plain
    assert "sessionMemory" not in plain
    assert "`context`" not in plain
    own = ContextConvention(
        name="trace",
        key="meta",
        fields=("traceId", "why"),
        patterns={"traceId": "tr_[0-9]{4}"},
        descriptions={"why": "the reason for this call"},
        first=False,
    )
    text = t.system_for(own)
    assert "## The `meta` object" in text
    assert "`meta` is a key of every call's arguments" in text
    assert "`traceId` (matches the regular expression `tr_[0-9]{4}` in full)" in text
    assert "`why`: the reason for this call" in text
    assert "sessionMemory" not in text
    # A template of the user's without the mark is sent as it is.
    mine = t.override(system="Rewrite the example.")
    assert mine.system_for(own) == "Rewrite the example."
