from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from syngen_improve import Record, detect_structural, read_jsonl
from tests.helpers import GOOD_CONTEXT, call_text, make_example


def _kinds(example: dict[str, Any]) -> set[str]:
    return set(detect_structural(example))


def test_a_good_example_has_no_issue() -> None:
    assert detect_structural(make_example()) == {}


@pytest.mark.parametrize("memory", ["", "   ", "None", "n/a", "User working", [], {"a": 1}, 3])
def test_empty_session_memory_positive(memory: object) -> None:
    assert "empty_session_memory" in _kinds(make_example(sessionMemory=memory))


@pytest.mark.parametrize("memory", ["Opened notes/today.md", "First call: user asked for a list"])
def test_empty_session_memory_negative(memory: str) -> None:
    assert "empty_session_memory" not in _kinds(make_example(sessionMemory=memory))


@pytest.mark.parametrize(
    "tool_context",
    [
        "Using tool",
        "Searching for files",
        "Run listDirectory on the folder",  # restates the mode
        "User wants to see all of the current workspace sessions listed",  # what, not why
        {"currentPath": "/home"},
        "",
    ],
)
def test_generic_tool_context_positive(tool_context: object) -> None:
    assert "generic_tool_context" in _kinds(make_example(toolContext=tool_context))


def test_generic_tool_context_negative() -> None:
    why = "Need the folder listing before moving notes so that nothing is overwritten"
    assert "generic_tool_context" not in _kinds(make_example(toolContext=why))


def test_missing_result() -> None:
    bare = make_example(assistant=call_text(params={"path": "A"}))
    assert detect_structural(bare)["missing_result"].startswith("call 1")
    two = call_text(result={"ok": True}) + "\n\n" + call_text("vaultManager_openNote")
    assert "call 1" not in detect_structural(make_example(assistant=two))["missing_result"]
    assert "missing_result" not in _kinds(make_example())


@pytest.mark.parametrize(
    ("primary", "sub"),
    [
        ("List agents", "List agents"),
        ("List agents", "list agents now"),
        ("Organize project notes by year", "Organize notes by project year"),
        ("", "Inventory"),
        ("Audit agents", None),
        ("Audit agents", "Use vaultManager_listDirectory"),
    ],
)
def test_weak_goals_positive(primary: str, sub: str | None) -> None:
    assert "weak_goals" in _kinds(make_example(primaryGoal=primary, subgoal=sub))


def test_weak_goals_negative() -> None:
    example = make_example(
        primaryGoal="Audit agent configuration to find redundancies",
        subgoal="Inventory all active agents",
    )
    assert "weak_goals" not in _kinds(example)


@pytest.mark.parametrize(
    "user",
    [
        'Result: {"success": false, "error": "Agent not found"}',
        '{"path": "Projects"}',
        "tool_call: vaultManager_listDirectory",
        "vaultManager_listDirectory path=Projects",
        "/list Projects",
        "ls --recursive Projects",
        "path=Projects/2024",
        "listDirectory(path='Projects')",
    ],
)
def test_unnatural_prompt_positive(user: str) -> None:
    assert "unnatural_prompt" in _kinds(make_example(user=user))


@pytest.mark.parametrize(
    "user",
    [
        "Can you move the old drafts into the archive?",
        "Load my work from last Friday afternoon.",
        "The lookup failed - can you check if that agent still exists?",
    ],
)
def test_unnatural_prompt_negative(user: str) -> None:
    assert "unnatural_prompt" not in _kinds(make_example(user=user))


def test_missing_context_and_malformed_ids() -> None:
    no_ctx = make_example(assistant='tool_call: a_b\narguments: {"path": "x"}\n\nResult: {}')
    assert "missing_context" in _kinds(no_ctx)
    args = json.dumps({"path": "x", "context": GOOD_CONTEXT})
    late = make_example(assistant=f"tool_call: a_b\narguments: {args}")
    assert detect_structural(late)["missing_context"].endswith("not the first key")
    partial = dict(GOOD_CONTEXT)
    del partial["subgoal"]
    assert (
        "subgoal"
        in detect_structural(make_example(assistant=call_text(context=partial)))["missing_context"]
    )
    assert "malformed_ids" in _kinds(make_example(sessionId="session_123_abc"))
    assert "malformed_ids" in _kinds(make_example(workspaceId="ws_1731398400000_ABCDEFGHI"))
    assert not _kinds(make_example()) & {"missing_context", "malformed_ids"}


def test_malformed_tool_call() -> None:
    assert "malformed_tool_call" in _kinds(make_example(assistant="Sure, I'll do that."))
    assert "malformed_tool_call" in _kinds(make_example(assistant="tool_call: a_b\narguments: {"))
    assert "malformed_tool_call" not in _kinds(make_example())


def _real(shared_data: Path, line: int) -> dict[str, Any]:
    for item in read_jsonl(shared_data / "scored_sample.jsonl"):
        if isinstance(item, Record) and item.line == line:
            return item.data
    raise AssertionError(f"no line {line}")


def test_real_examples(shared_data: Path) -> None:
    first = detect_structural(_real(shared_data, 1))  # sessionMemory [] and toolContext {...}
    assert first["empty_session_memory"] == "sessionMemory is a list, not a string"
    assert first["generic_tool_context"] == "toolContext is a dict, not a string"
    assert first["missing_result"].startswith("call 1 (memoryManager_listSessions)")
    assert "unnatural_prompt" not in first
    assert detect_structural(_real(shared_data, 3))["unnatural_prompt"] == (
        "user turn is a pasted Result object"
    )
    assert "weak_goals" in detect_structural(_real(shared_data, 352))
    assert detect_structural(_real(shared_data, 9)) == {
        "missing_result": "call 1 (memoryManager_loadWorkspace) has no Result"
    }
    assert detect_structural(_real(shared_data, 141)) == {
        "generic_tool_context": "toolContext restates the user's request"
    }
