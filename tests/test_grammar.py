from __future__ import annotations

import json
from pathlib import Path

import pytest

from syngen_improve import parse_tool_calls
from syngen_improve._jsonl import Record, read_jsonl
from tests.helpers import call_text


def test_single_call_with_result_and_prose() -> None:
    text = call_text(params={"path": "A"}, result={"success": True}) + "\n\nAll done."
    [call] = parse_tool_calls(text)
    assert call.name == "vaultManager_listDirectory"
    assert call.arguments["path"] == "A"
    assert call.context["sessionId"].startswith("session_")
    assert call.has_result
    assert call.result == {"success": True}
    assert call.space_after_colon
    assert call.arguments_at_line_start
    assert call.arguments_error is None
    assert call.result_error is None
    assert call.arguments_span is not None
    assert call.result_span is not None
    a0, a1 = call.arguments_span
    assert json.loads(text[a0:a1]) == call.arguments
    r0, r1 = call.result_span
    assert json.loads(text[r0:r1]) == {"success": True}
    assert call.span == (0, r1)


def test_several_calls_in_one_turn() -> None:
    text = "\n\n".join(
        [
            call_text("a_one", params={"x": 1}, result={"ok": 1}),
            call_text("b_two", params={"y": 2}),
            call_text("c_three", params={"z": 3}, result={"ok": 3}),
        ]
    )
    calls = parse_tool_calls(text)
    assert [c.name for c in calls] == ["a_one", "b_two", "c_three"]
    assert [c.index for c in calls] == [0, 1, 2]
    assert [c.has_result for c in calls] == [True, False, True]
    assert calls[0].result == {"ok": 1}
    assert calls[2].result == {"ok": 3}
    assert calls[1].span[1] <= calls[2].span[0]


def test_braces_escaped_quotes_and_markers_inside_strings() -> None:
    args = {"context": {}, "content": 'a } { "quoted" \\ tool_call: x\nResult: {"no": 1}'}
    text = f'tool_call: x_y\narguments: {json.dumps(args)}\n\nResult: {{"n": 1}}'
    [call] = parse_tool_calls(text)
    assert call.arguments == args
    assert call.result == {"n": 1}


def test_raw_control_characters_inside_strings() -> None:
    text = 'tool_call: x_y\narguments: {"note": "line1\nline2\ttab\ntool_call: fake"}'
    [call] = parse_tool_calls(text)
    assert call.arguments == {"note": "line1\nline2\ttab\ntool_call: fake"}


def test_missing_and_bad_arguments() -> None:
    [missing] = parse_tool_calls("tool_call: x_y\n")
    assert missing.arguments is None
    assert missing.arguments_error == "arguments: missing"
    [array] = parse_tool_calls("tool_call: x_y\narguments: [1, 2]")
    assert array.arguments_error == "arguments is not a JSON object"
    [broken] = parse_tool_calls('tool_call: x_y\narguments: {"a": }')
    assert broken.arguments is None
    assert broken.arguments_error is not None
    assert "not valid JSON" in broken.arguments_error


def test_grammar_details_are_recorded() -> None:
    [call] = parse_tool_calls('tool_call:x_y\nnoise arguments: {"a": 1}')
    assert not call.space_after_colon
    assert not call.arguments_at_line_start
    assert call.arguments == {"a": 1}


def test_malformed_result() -> None:
    [call] = parse_tool_calls('tool_call: x_y\narguments: {"a": 1}\n\nResult: {"oops": ')
    assert call.has_result
    assert call.result is None
    assert call.result_error is not None
    assert call.result_error.startswith("Result is not valid JSON")
    [text_result] = parse_tool_calls('tool_call: x_y\narguments: {"a": 1}\nResult: ok')
    assert text_result.result_error == "Result is not a JSON object"


def test_no_tool_call() -> None:
    assert parse_tool_calls("I will look into that for you.") == []
    assert parse_tool_calls("") == []
    # "tool_call:" not at the start of a line is prose, not a call
    assert parse_tool_calls("say tool_call: x") == []


def test_every_call_in_the_real_sample_parses(shared_data: Path) -> None:
    calls = 0
    for item in read_jsonl(shared_data / "scored_sample.jsonl"):
        if not isinstance(item, Record):
            continue
        for msg in item.data["conversations"]:
            if msg["role"] != "assistant":
                continue
            parsed = parse_tool_calls(msg["content"])
            assert parsed, msg["content"][:80]
            assert msg["content"].count("tool_call:") == len(parsed)
            for c in parsed:
                assert isinstance(c.arguments, dict), (item.line, c.arguments_error)
                assert next(iter(c.arguments)) == "context"
            calls += len(parsed)
    assert calls == 903


@pytest.mark.parametrize("prose", [
    "\n\nDone: the note is open.",
    "\n\nDone {as asked}.",  # a "}" in the prose: the fast path falls back
    "\n\nDone \x01 with a control character.",
    "",
])  # fmt: skip
def test_a_result_followed_by_prose_decodes_to_the_same_value(prose: str) -> None:
    result = {"success": True, "data": {"path": "a/b.md", "note": "x}y"}}
    text = (
        'tool_call: vaultManager_openNote\narguments: {"context": {}, "path": "a/b.md"}\n\n'
        f"Result: {json.dumps(result)}{prose}"
    )
    (call,) = parse_tool_calls(text)
    assert call.result == result
    assert call.result_error is None
    assert call.result_span is not None
    start, end = call.result_span
    assert json.loads(text[start:end]) == result
