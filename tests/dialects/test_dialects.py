"""The text grammar and OpenAI chat read into the same conversation, and write back to it.

The OpenAI rows are made by a converter written here, independently of the dialect's
writer, so that reader and writer are not only checked against each other.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from syngen_improve import parse_tool_calls
from syngen_improve.context import NO_CONTEXT
from syngen_improve.dialects import (
    Call,
    Conversation,
    Turn,
    detect_dialect,
    read_conversation,
    read_openai,
    read_text,
    write_openai,
    write_text,
)


def rows(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_bytes().splitlines():
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(row, dict) and isinstance(row.get("conversations"), list):
            out.append(row)
    return out


@pytest.fixture(scope="module")
def real_rows(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    """The real 900-line slice (tests/data)."""
    return rows(Path(__file__).resolve().parents[1] / "data" / "scored_sample.jsonl")


def to_openai(row: dict[str, Any]) -> dict[str, Any]:
    """The test's own converter: each assistant content split at its calls' spans."""
    messages: list[dict[str, Any]] = []
    for t, turn in enumerate(row["conversations"]):
        content = turn["content"]
        if turn["role"] != "assistant":
            messages.append({"role": turn["role"], "content": content})
            continue
        pos, text, calls = 0, "", []
        for n, call in enumerate(parse_tool_calls(content)):
            between = content[pos : call.span[0]].strip()
            if between and calls:  # prose after calls: the next assistant message
                messages.extend(emit(text, calls))
                text, calls = between, []
            elif between:
                text = between
            calls.append((f"c{t}_{n}", call))
            pos = call.span[1]
        rest = content[pos:].strip()
        messages.extend(emit(text, calls))
        if rest:
            messages.append({"role": "assistant", "content": rest})
    return {"messages": messages}


def emit(text: str, calls: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    if not text and not calls:
        return []
    out: list[dict[str, Any]] = [{
        "role": "assistant", "content": text or None,
        "tool_calls": [{"id": cid, "type": "function",
                        "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
                       for cid, c in calls],
    }]  # fmt: skip
    out += [{"role": "tool", "tool_call_id": cid, "content": json.dumps(c.result)}
            for cid, c in calls if c.has_result]  # fmt: skip
    return out


def well_formed(row: dict[str, Any]) -> bool:
    """Every call decodes (a malformed call has no OpenAI form to compare with)."""
    return all(
        c.arguments_error is None and c.result_error is None
        for t in row["conversations"] if t.get("role") == "assistant"
        for c in parse_tool_calls(t["content"])
    )  # fmt: skip


def test_the_text_grammar_round_trips_on_real_rows(real_rows: list[dict[str, Any]]) -> None:
    calls = 0
    for row in real_rows:
        conversation = read_text(row)
        assert read_text({"conversations": write_text(conversation)}) == conversation
        parsed = [c for t in row["conversations"] if t["role"] == "assistant"
                  for c in parse_tool_calls(t["content"])]  # fmt: skip
        assert [c.name for c in conversation.calls] == [c.name for c in parsed]
        calls += len(parsed)
    assert calls > len(real_rows)  # the rows do call tools


def test_openai_rows_read_as_the_same_conversation(real_rows: list[dict[str, Any]]) -> None:
    checked = 0
    for row in filter(well_formed, real_rows):
        converted = to_openai(row)
        assert detect_dialect(converted) == "openai"
        assert read_openai(converted) == read_text(row), row["conversations"][0]["content"][:80]
        # and our writer gives a row the reader takes back to the same conversation
        written = write_openai(read_text(row))
        assert read_conversation(written) == read_text(row)
        checked += 1
    assert checked > 0.9 * len(real_rows)


def test_openai_specifics() -> None:
    row = {
        "messages": [
            {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
            {"role": "user", "content": "Open both notes."},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "a", "type": "function",
                 "function": {"name": "open", "arguments": '{"p": 1}'}},
                {"id": "b", "type": "function",
                 "function": {"name": "open", "arguments": {"p": 2}}},  # an object, not text
            ]},
            {"role": "tool", "tool_call_id": "b", "content": '{"ok": 2}'},  # out of order
            {"role": "tool", "tool_call_id": "a", "content": "plain text"},
            {"role": "assistant", "content": "Both are open."},
            {"role": "user", "content": "Thanks"},
        ],
        "tools": [{"type": "function", "function": {"name": "open", "parameters": {}}}],
    }  # fmt: skip
    conversation = read_openai(row)
    assert [t.role for t in conversation.turns] == ["system", "user", "assistant", "user"]
    assistant = conversation.turns[2]
    assert assistant.parts == (
        Call("open", {"p": 1}, "plain text", True),
        Call("open", {"p": 2}, {"ok": 2}, True),
        "Both are open.",
    )
    assert conversation.turns[0].text == "Be brief."
    assert conversation.tools == tuple(row["tools"])
    again = write_openai(conversation)
    assert again["tools"] == row["tools"]
    assert [m["tool_call_id"] for m in again["messages"] if m["role"] == "tool"] == ["a", "b"]
    assert read_openai(again) == conversation


def test_calls_without_results_stay_in_their_turn() -> None:
    turn = Turn.of("assistant", ["Saving.", Call("save", {"x": 1}), "Done."])
    conversation = Conversation((Turn.of("user", ["Save it"]), turn))
    assert read_openai(write_openai(conversation)) == conversation
    assert read_text({"conversations": write_text(conversation)}) == conversation


def test_detection_and_unknown_rows() -> None:
    assert detect_dialect({"conversations": [{"role": "user", "content": "hi"}]}) == "text"
    assert detect_dialect({"messages": [{"role": "user", "content": "hi"}]}) == "openai"
    assert detect_dialect({"conversations": [{"from": "human", "value": "hi"}]}) == "sharegpt"
    tagged = {"role": "assistant", "content": '<tool_call>{"name": "x"}</tool_call>'}
    assert detect_dialect({"conversations": [tagged]}) == "hermes"
    assert detect_dialect({"messages": [tagged]}) == "hermes"
    assert detect_dialect({"conversations": [{"speaker": "a", "text": "hi"}]}) is None
    assert detect_dialect({"conversations": ["hi"]}) is None
    with pytest.raises(ValueError, match="no known dialect"):
        read_conversation({"rows": []})


def test_whitespace_around_calls_does_not_matter() -> None:
    call = 'tool_call: open\narguments: {"p": 1}\n\nResult: {"ok": true}'
    a = read_text({"conversations": [{"role": "assistant", "content": f"Sure.\n\n{call}"}]})
    b = read_text({"conversations": [{"role": "assistant", "content": f"  Sure.\n{call}\n\n"}]})
    assert a == b
    assert a.turns[0].parts == ("Sure.", Call("open", {"p": 1}, {"ok": True}, True))


def assistant_steps(content: str) -> list[tuple[str, list[Any]]]:
    """(text before, calls) of each step of an assistant content, split at the calls' spans
    (text after calls starts a new step)."""
    steps: list[tuple[str, list[Any]]] = []
    pos, text, calls = 0, "", []
    for call in parse_tool_calls(content):
        between = content[pos : call.span[0]].strip()
        if between and calls:
            steps.append((text, calls))
            text, calls = between, []
        elif between:
            text = between
        calls.append(call)
        pos = call.span[1]
    steps.append((text, calls))
    rest = content[pos:].strip()
    if rest:
        steps.append((rest, []))
    return [s for s in steps if s[0] or s[1]]


def to_sharegpt(row: dict[str, Any]) -> dict[str, Any]:
    names = {"user": "human", "assistant": "gpt", "system": "system"}
    out: list[dict[str, str]] = []
    for turn in row["conversations"]:
        if turn["role"] != "assistant":
            out.append({"from": names[turn["role"]], "value": turn["content"]})
            continue
        for text, calls in assistant_steps(turn["content"]):
            if text:
                out.append({"from": "gpt", "value": text})
            if calls:
                shown = [{"name": c.name, "arguments": c.arguments} for c in calls]
                out.append(
                    {
                        "from": "function_call",
                        "value": json.dumps(shown if len(shown) > 1 else shown[0]),
                    }
                )
                results = [c.result for c in calls if c.has_result]
                if results:
                    out.append(
                        {
                            "from": "observation",
                            "value": json.dumps(results if len(calls) > 1 else results[0]),
                        }
                    )
    return {"conversations": out}  # fmt: skip


def to_hermes(row: dict[str, Any]) -> dict[str, Any]:
    out: list[dict[str, str]] = []
    for turn in row["conversations"]:
        if turn["role"] != "assistant":
            out.append(dict(turn))
            continue
        for text, calls in assistant_steps(turn["content"]):
            tags = "".join(
                f'<tool_call>{{"name": "{c.name}", "arguments": '
                f"{json.dumps(c.arguments)}}}</tool_call>"
                for c in calls
            )
            out.append({"role": "assistant", "content": f"{text}\n{tags}".strip()})
            replies = "".join(
                f"<tool_response>{json.dumps(c.result)}</tool_response>"
                for c in calls
                if c.has_result
            )
            if replies:
                out.append({"role": "tool", "content": replies})
    return {"conversations": out}  # fmt: skip


@pytest.mark.parametrize(("dialect", "convert"), [
    ("sharegpt", to_sharegpt), ("hermes", to_hermes), ("openai", to_openai),
])  # fmt: skip
def test_every_dialect_reads_the_real_slice_as_the_text_grammar_does(
    real_rows: list[dict[str, Any]], dialect: str, convert: Any
) -> None:
    from syngen_improve import dialects

    write = getattr(dialects, f"write_{dialect}")
    checked = calls = 0
    for row in filter(well_formed, real_rows):
        converted = convert(row)
        assert detect_dialect(converted) == dialect
        want = read_text(row)
        assert read_conversation(converted) == want
        written = write(want)
        row_again = written if isinstance(written, dict) else {"conversations": written}
        assert read_conversation(row_again, dialect) == want  # type: ignore[arg-type]
        checked += 1
        calls += len(want.calls)
    assert checked > 0.9 * len(real_rows)
    assert calls > checked  # the calls are seen, not passed over


def test_a_hermes_row_has_visible_calls_and_results() -> None:
    row = {"conversations": [
        {"role": "user", "content": "Weather in Lisbon?"},
        {"role": "assistant", "content": 'Checking.\n<tool_call>\n{"name": "weather", '
                                         '"arguments": {"city": "Lisbon"}}\n</tool_call>'},
        {"role": "tool", "content": '<tool_response>\n{"name": "weather", "content": '
                                    '{"temp": 21}}\n</tool_response>'},
        {"role": "assistant", "content": "21 degrees."},
    ]}  # fmt: skip
    (user, assistant) = read_conversation(row).turns
    assert assistant.parts == ("Checking.", Call("weather", {"city": "Lisbon"}, {"temp": 21}, True),
                               "21 degrees.")  # fmt: skip
    assert user.text == "Weather in Lisbon?"


def test_a_sharegpt_result_that_is_a_list_belongs_to_its_one_call() -> None:
    row = {"system": "Be brief.", "tools": '[{"name": "ls"}]', "conversations": [
        {"from": "human", "value": "List it"},
        {"from": "function_call", "value": '{"name": "ls", "arguments": "{\\"p\\": \\"/\\"}"}'},
        {"from": "observation", "value": '["a.md", "b.md"]'},
        {"from": "gpt", "value": "Two files."},
    ]}  # fmt: skip
    conversation = read_conversation(row)
    assert [t.role for t in conversation.turns] == ["system", "user", "assistant"]
    assert conversation.turns[2].parts == (Call("ls", {"p": "/"}, ["a.md", "b.md"], True),
                                           "Two files.")  # fmt: skip
    assert conversation.tools == ({"name": "ls"},)


def test_a_plain_text_tool_result_is_a_json_string_in_the_text_grammar() -> None:
    """Chat formats let a tool answer in plain text: the canonical text shows it as a JSON
    string (valid grammar: a warning, R404, not a structural error) and it is written back
    as the same plain text."""
    from syngen_improve import validate_example
    from syngen_improve.dialects import as_text_grammar, in_dialect

    row = {"label": True, "messages": [
        {"role": "user", "content": "How warm is Lisbon?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "w1", "type": "function",
             "function": {"name": "weather_now", "arguments": '{"city": "Lisbon"}'}}]},
        {"role": "tool", "tool_call_id": "w1", "content": "21 °C and sunny"},
        {"role": "assistant", "content": "It's 21 °C and sunny."},
    ]}  # fmt: skip
    text = as_text_grammar(row)
    assert 'Result: "21 °C and sunny"' in text["conversations"][1]["content"]
    codes = {i.code for i in validate_example(text, profile="strict", context=NO_CONTEXT)}
    assert "R404" in codes
    assert "R401" not in codes
    back = in_dialect(text, "openai", call_ids=["w1"])
    assert back["messages"] == row["messages"]
    # In the text grammar a Result that is not JSON at all is still malformed
    broken = {
        "conversations": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "tool_call: a_b\narguments: {}\n\nResult: 21 °C"},
        ]
    }
    assert "R401" in {i.code for i in validate_example(broken, context=NO_CONTEXT)}
