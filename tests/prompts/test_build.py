"""The improve conversation: the first message and the re-ask."""

from __future__ import annotations

import json

from syngen_improve._text import find_example
from syngen_improve.llm import Reply, Usage
from syngen_improve.prompts import (
    IMPROVE_TOOL,
    Templates,
    build_request,
    first_message,
    reask_messages,
    tool_schemas_text,
)
from syngen_improve.validate import ToolRegistry
from tests.helpers import make_example


def test_example_is_the_last_json_object_of_the_message() -> None:
    """The example to rewrite is its conversations (canonical) and nothing the answer must
    not copy: no label, no scores, no _index; the judge's notes are given as problems."""
    ex = make_example(sessionMemory="")
    ex["_index"] = 7
    ex["quality_scores"] = {"notes": "sessionMemory is empty; toolContext is generic.",
                            "sessionMemory_quality": 1}  # fmt: skip
    msg = first_message(ex, frozenset({"empty_session_memory"}), Templates.default())
    assert msg["role"] == "user"
    assert find_example(msg["content"]) == {"conversations": ex["conversations"]}
    assert "sessionMemory is empty, a placeholder" in msg["content"]  # the instruction block
    assert "notes on it (fix what they point out):\nsessionMemory is empty;" in msg["content"]
    assert '"label"' not in msg["content"]
    assert "_index" not in msg["content"]
    assert "sessionMemory_quality" not in msg["content"]
    plain = first_message(make_example(), frozenset(), Templates.default())["content"]
    assert "Problems found" not in plain
    assert "A reviewer" not in plain
    # A row's own tool definitions are not sent with it: the schemas of the tools it calls
    # go once in the block after the cache mark
    params = {"type": "object", "properties": {"path": {"type": "string"}}}
    own = {**make_example(), "tools": [{"type": "function", "function": {
        "name": "vaultManager_listDirectory", "parameters": params}}]}  # fmt: skip
    shown = first_message(own, frozenset(), Templates.default())["content"]
    assert find_example(shown) == {"conversations": own["conversations"]}
    schemas = ToolRegistry.default().with_row_tools(own["tools"])
    assert json.dumps(params) in json.dumps(json.loads(
        tool_schemas_text(own, schemas).split("\n", 1)[1]))  # fmt: skip


def test_schemas_of_the_tools_called_go_after_the_cache_mark() -> None:
    ex = make_example()
    text = tool_schemas_text(ex, ToolRegistry.default())
    assert "vaultManager_listDirectory" in text
    assert tool_schemas_text({"conversations": []}, ToolRegistry.default()) == ""
    # A tool the system prompt's catalogue shows as it is is not repeated after the mark
    assert tool_schemas_text(ex, ToolRegistry.default(), shown=ToolRegistry.default()) == ""
    other = ToolRegistry.from_json_schemas({"vaultManager_listDirectory": {"type": "object"}})
    assert "vaultManager_listDirectory" in tool_schemas_text(
        ex, other, shown=ToolRegistry.default()
    )
    req = build_request(
        [first_message(ex, frozenset(), Templates.default())],
        system="the shared prompt", schemas_text=text, max_tokens=100, key="1",
    )  # fmt: skip
    system = req.body("m")["system"]
    assert system[0] == {"type": "text", "text": "the shared prompt",
                         "cache_control": {"type": "ephemeral"}}  # fmt: skip
    assert system[1] == {"type": "text", "text": text}
    assert req.tool_choice == IMPROVE_TOOL


def test_reask_answers_each_tool_use_with_an_error_result() -> None:
    first = first_message(make_example(), frozenset(), Templates.default())
    reply = Reply(
        content=[{"type": "tool_use", "id": "toolu_1", "name": IMPROVE_TOOL, "input": {}}],
        usage=Usage(),
    )
    messages = reask_messages([first], reply, ["C201 (turn 2): no context"], Templates.default())
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"] == reply.content
    (result,) = messages[2]["content"]
    assert result["type"] == "tool_result"
    assert result["tool_use_id"] == "toolu_1"
    assert result["is_error"] is True
    assert "C201 (turn 2): no context" in result["content"]


def test_reask_after_a_text_answer_is_text() -> None:
    first = first_message(make_example(), frozenset(), Templates.default())
    reply = Reply(content=[{"type": "text", "text": "{ truncated"}], usage=Usage())
    messages = reask_messages([first], reply, ["cut off"], Templates.default())
    assert isinstance(messages[2]["content"], str)
    assert "- cut off" in messages[2]["content"]
