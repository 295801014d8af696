"""Strict tool use: the answer schema brought into the subset the API compiles, checked by
the fake's own reading of the API's rules, and what cannot be strict says why."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from syngen_improve import Record, ToolRegistry, read_jsonl, sample_path
from syngen_improve.context import NO_CONTEXT, SEVEN_FIELDS
from syngen_improve.prompts import improve_tool
from syngen_improve.prompts._strict import strict_schema
from syngen_improve.prompts._structured import answer_schema, render_answer, to_structured
from syngen_improve.testing import FakeModel
from syngen_improve.testing._strict import strict_problem

SMALL = ("contentManager_readContent", "vaultManager_listDirectory", "vaultManager_createFolder")


def _small() -> ToolRegistry:
    tools = ToolRegistry.default()
    return ToolRegistry([tools[n] for n in SMALL])


def _walk(node: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if isinstance(node, dict):
        out.append(node)
        for value in node.values():
            out += _walk(value)
    elif isinstance(node, list):
        for value in node:
            out += _walk(value)
    return out


def test_a_small_catalogue_becomes_a_schema_the_api_compiles() -> None:
    schema, why = strict_schema(answer_schema(_small(), SEVEN_FIELDS, result_as_text=True))
    assert why is None
    assert schema is not None
    nodes = _walk(schema)
    objects = [n for n in nodes if n.get("type") == "object"]
    assert objects
    assert all(n.get("additionalProperties") is False for n in objects)
    assert not any("minLength" in n for n in nodes)  # the context fields' bound is dropped
    assert any("pattern" in n for n in nodes)  # the ids' patterns are kept
    payload = {"tools": [improve_tool(schema, strict=True)]}
    assert strict_problem(payload, None) is None
    # Not the loose schema: the API would refuse it, and says where
    loose = {"tools": [improve_tool(answer_schema(_small(), SEVEN_FIELDS), strict=True)]}
    assert "minLength" in (strict_problem(loose, None) or "")


def test_a_strict_answer_renders_like_a_loose_one() -> None:
    """Under strict, a call's result is JSON text; it renders to the same example."""
    schema, _ = strict_schema(answer_schema(_small(), SEVEN_FIELDS, result_as_text=True))
    assert schema is not None
    validator = jsonschema.Draft202012Validator(schema)
    rows = [i.data for i in read_jsonl(sample_path()) if isinstance(i, Record)]
    seen = 0
    for row in rows:
        answer = to_structured(FakeModel().improve(row), SEVEN_FIELDS)  # with Results
        calls = [p for t in answer["turns"] for p in t.get("parts", ()) if "tool" in p]
        if not calls or any(c["tool"] not in SMALL or "result" not in c for c in calls):
            continue
        loose, _ = render_answer(answer, SEVEN_FIELDS)
        for call in calls:
            call["result"] = json.dumps(call["result"])
        errors = [e.message for e in validator.iter_errors(answer)]
        assert errors == []
        strict, _ = render_answer(answer, SEVEN_FIELDS)
        assert strict == loose
        seen += 1
    assert seen >= 10


@pytest.mark.parametrize(("text", "result"), [
    ('{"found": 2}', {"found": 2}),
    ("[1, 2]", [1, 2]),
    ("21 °C", "21 °C"),
    ("42", "42"),  # a plain-text result that happens to be a number stays text
    ("{not json", "{not json"),
])  # fmt: skip
def test_a_text_result_is_json_only_when_it_holds_an_object_or_list(text: str, result: Any) -> None:
    answer = {"turns": [{"role": "user", "text": "hi"}, {"role": "assistant", "parts": [
        {"tool": "t", "arguments": {}, "result": text}]}]}  # fmt: skip
    out, _ = render_answer(answer, NO_CONTEXT)
    assert out is not None
    content = out["conversations"][1]["content"]
    assert content.endswith("Result: " + json.dumps(result, ensure_ascii=False))


def test_what_cannot_be_strict_says_why() -> None:
    # The bundled 47: a parameter that is an object with no properties
    _, why = strict_schema(answer_schema(ToolRegistry.default(), SEVEN_FIELDS,
                                         result_as_text=True))  # fmt: skip
    assert why is not None
    assert "agentManager_executePrompt: arguments.action is an object with no properties" in why
    # No catalogue: a call's arguments are anything
    _, why = strict_schema(answer_schema(None, NO_CONTEXT, result_as_text=True))
    assert why is not None
    assert "the run has no tool schemas" in why
    # Too many optional parameters
    wide = ToolRegistry.from_json_schemas({
        f"tool{i}": {"type": "object", "properties": {f"p{j}": {"type": "string"}
                                                      for j in range(5)}}
        for i in range(5)
    })  # fmt: skip
    _, why = strict_schema(answer_schema(wide, NO_CONTEXT, result_as_text=True))
    assert why == "the answer schema has 25 optional parameters; strict tool use takes at most 24"
    for keyword, value in (("not", {"type": "null"}), ("if", {"type": "string"})):
        odd = ToolRegistry.from_json_schemas({"t": {"type": "object", "properties": {
            "a": {"type": "string", keyword: value}}, "required": ["a"]}})  # fmt: skip
        _, why = strict_schema(answer_schema(odd, NO_CONTEXT, result_as_text=True))
        assert (
            why == f"a call of t: arguments.a uses {keyword!r}, which strict tool use does not take"
        )


def test_one_of_becomes_any_of_and_bounds_go() -> None:
    tools = ToolRegistry.from_json_schemas({"t": {"type": "object", "required": ["n", "x"],
        "properties": {"n": {"type": "integer", "minimum": 1, "maximum": 9},
                       "x": {"oneOf": [{"type": "string", "maxLength": 3},
                                       {"type": "array", "items": {"type": "string"},
                                        "minItems": 2}]}}}})  # fmt: skip
    schema, why = strict_schema(answer_schema(tools, NO_CONTEXT, result_as_text=True))
    assert why is None
    assert schema is not None
    text = str(schema)
    for gone in ("minimum", "maximum", "maxLength", "oneOf"):
        assert gone not in text
    assert "'minItems': 1" in text
    assert strict_problem({"tools": [improve_tool(schema, strict=True)]}, None) is None
