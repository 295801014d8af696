"""The fake under strict tool use: it refuses what the API refuses (with the API's words)
and otherwise answers by the schema; without strict it can slip off the tools' schemas."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema

from syngen_improve import ToolRegistry
from syngen_improve.context import SEVEN_FIELDS
from syngen_improve.improve import check_reply
from syngen_improve.llm import Reply, Usage
from syngen_improve.prompts import improve_tool
from syngen_improve.prompts._strict import strict_schema
from syngen_improve.prompts._structured import answer_schema
from syngen_improve.testing import FakeAnthropic, FakeConfig
from syngen_improve.testing._strict import GRAMMAR_TOO_LARGE, strict_problem
from tests.helpers import make_example
from tests.testing.test_fake import body, post, run

SMALL = ("contentManager_readContent", "vaultManager_listDirectory", "vaultManager_openNote")


def _tools() -> ToolRegistry:
    tools = ToolRegistry.default()
    return ToolRegistry([tools[n] for n in SMALL])


def _strict_tool() -> dict[str, Any]:
    schema, why = strict_schema(answer_schema(_tools(), SEVEN_FIELDS, result_as_text=True))
    assert schema is not None, why
    return improve_tool(schema, strict=True)


def _ask(fake: FakeAnthropic, tool: dict[str, Any], example: dict[str, Any]) -> Any:
    return run(post(fake, body(example, tools=[tool])))


def test_strict_answers_follow_the_schema_even_when_a_slip_is_drawn() -> None:
    tool = _strict_tool()
    validator = jsonschema.Draft202012Validator(tool["input_schema"])
    fake = FakeAnthropic(FakeConfig(first_bad_outputs=["schema_slip"]))
    example = make_example(sessionMemory="")
    resp = _ask(fake, tool, example)
    assert resp.status_code == 200
    (block,) = resp.json()["content"]
    assert list(validator.iter_errors(block["input"])) == []
    assert isinstance(block["input"]["turns"][1]["parts"][-1]["result"], str)  # JSON text
    assert fake.counters.strict_answers == 1
    reply = Reply(content=resp.json()["content"], usage=Usage(), stop_reason="tool_use")
    verdict = check_reply(reply, example, schemas=ToolRegistry.default())
    assert verdict.accepted, verdict.errors


def test_without_strict_a_slip_breaks_the_schema_and_the_gate_names_it() -> None:
    loose = improve_tool(answer_schema(_tools(), SEVEN_FIELDS))
    validator = jsonschema.Draft202012Validator(loose["input_schema"])
    fake = FakeAnthropic(FakeConfig(first_bad_outputs=["schema_slip"]))
    example = make_example(sessionMemory="")
    resp = _ask(fake, loose, example)
    (block,) = resp.json()["content"]
    assert list(validator.iter_errors(block["input"]))
    assert fake.counters.strict_answers == 0
    reply = Reply(content=resp.json()["content"], usage=Usage(), stop_reason="tool_use")
    verdict = check_reply(reply, example, schemas=ToolRegistry.default())
    assert verdict.reason == "invalid"
    assert any("vaultManager_openNote" in e or "path" in e for e in verdict.errors), verdict.errors
    # The second answer for the same example does not slip
    again = _ask(fake, loose, example)
    assert list(validator.iter_errors(again.json()["content"][0]["input"])) == []


def test_the_api_refuses_what_strict_cannot_compile_with_its_words() -> None:
    tool = _strict_tool()
    fake = FakeAnthropic(FakeConfig(strict_grammar_limit=1000))
    resp = _ask(fake, tool, make_example())
    assert resp.status_code == 400
    assert resp.json()["error"] == {"type": "invalid_request_error", "message": GRAMMAR_TOO_LARGE}
    assert fake.counters.strict_refused == 1
    assert fake.counters.strict_answers == 0
    # The same tool without strict is answered
    loose = {k: v for k, v in tool.items() if k != "strict"}
    assert _ask(fake, loose, make_example()).status_code == 200


def test_the_documented_rules_are_checked_on_any_strict_schema() -> None:
    def problem(schema: dict[str, Any]) -> str | None:
        return strict_problem({"tools": [{"name": "t", "strict": True,
                                          "input_schema": schema}]}, None)  # fmt: skip

    closed = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"],
              "additionalProperties": False}  # fmt: skip
    assert problem(closed) is None
    open_ = {k: v for k, v in closed.items() if k != "additionalProperties"}
    assert "additionalProperties must be set to false" in (problem(open_) or "")
    bounded = copy.deepcopy(closed)
    bounded["properties"]["a"]["maxLength"] = 3
    assert problem(bounded) == (
        "tools.0.input_schema.properties.a: 'maxLength' is not supported with strict tool use"
    )
    wide = {"type": "object", "additionalProperties": False,
            "properties": {f"p{i}": {"type": "string"} for i in range(25)}}  # fmt: skip
    assert "25 optional parameters" in (problem(wide) or "")
    names = [f"p{i}" for i in range(17)]
    unions = {"type": "object", "additionalProperties": False, "required": names,
              "properties": {n: {"type": ["string", "null"]} for n in names}}  # fmt: skip
    assert "17 union-typed parameters" in (problem(unions) or "")
    # A tool without strict is none of this check's business
    assert strict_problem({"tools": [{"name": "t", "input_schema": open_}]}, 10) is None
