"""The compiled check never calls valid what jsonschema rejects, and on tool schemas it
agrees with jsonschema outright."""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator

from syngen_improve import sample_path
from syngen_improve._model import iter_tool_calls
from syngen_improve.validate import ToolRegistry, validate_example
from syngen_improve.validate._quick import compile_check

ODD_VALUES: list[Any] = [0, 1, 1.0, 1.5, -3, True, False, None, "", "x", "read", [], ["a"],
                         [1, "a"], {}, {"a": 1}, 10**20, 2.0**60]  # fmt: skip


def _errors(schema: dict[str, Any], instance: Any, *, root_required: bool) -> list[str]:
    """jsonschema's errors, less the top level's ``required`` unless it counts."""
    return [
        e.message
        for e in Draft202012Validator(schema).iter_errors(instance)
        if root_required or not (e.validator == "required" and not e.path)
    ]


def _mutations(value: Any, rng: random.Random, n: int) -> list[Any]:
    """``value`` with one leaf replaced by an odd value, ``n`` times."""

    def one(v: Any) -> Any:
        if isinstance(v, dict) and v and rng.random() < 0.85:
            key = rng.choice(sorted(v))
            return {**v, key: one(v[key])}
        if isinstance(v, list) and v and rng.random() < 0.85:
            i = rng.randrange(len(v))
            return [*v[:i], one(v[i]), *v[i + 1 :]]
        return rng.choice(ODD_VALUES)

    return [one(value) for _ in range(n)]


def test_it_agrees_with_jsonschema_on_the_bundled_tools_and_real_calls() -> None:
    registry = ToolRegistry.default()
    rng = random.Random(20261126)
    checked = said_valid = 0
    for line in sample_path().read_bytes().splitlines():
        try:
            example = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        for _, call in iter_tool_calls(example):
            tool = registry.get(call.name)
            if tool is None or not isinstance(call.arguments, dict):
                continue
            check = compile_check(tool.parameters)
            assert check is not None, call.name
            params = {k: v for k, v in call.arguments.items() if k != "context"}
            for instance in [params, *_mutations(params, rng, 4)]:
                errors = _errors(tool.parameters, instance, root_required=False)
                assert check(instance) == (not errors), (call.name, instance, errors)
                checked += 1
                said_valid += not errors
    assert checked > 500
    assert 0 < said_valid < checked  # both answers were exercised


SCHEMAS: list[dict[str, Any]] = [
    {"type": ["integer", "null"]},
    {"type": "number", "minimum": 0, "exclusiveMaximum": 10},
    {"enum": [1, "a", None, True]},
    {"const": 1.0},
    {"const": {"a": 1}},
    {"type": "string", "minLength": 1, "maxLength": 3, "pattern": "^[a-z]+$"},
    {"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 2},
    {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False},
    {"type": "object", "properties": {"a": {"type": "string"}},
     "additionalProperties": {"type": "integer"}},
    {"anyOf": [{"type": "string"}, {"type": "object", "required": ["a"]}]},
    {"oneOf": [{"type": "number"}, {"type": "integer"}]},
    {"allOf": [{"type": "object"}, {"properties": {"a": {"enum": ["x"]}}}]},
    {"type": "object", "required": ["a"], "properties": {"a": {"type": "object",
     "required": ["b"], "properties": {"b": {"type": "boolean"}}}}},
    {"properties": {"a": True, "b": False}},
]  # fmt: skip


@pytest.mark.parametrize("schema", SCHEMAS, ids=[orjson.dumps(s).decode()[:40] for s in SCHEMAS])
@pytest.mark.parametrize("root_required", [False, True])
def test_valid_only_where_jsonschema_finds_nothing(
    schema: dict[str, Any], root_required: bool
) -> None:
    check = compile_check(schema, root_required=root_required)
    assert check is not None
    rng = random.Random(orjson.dumps(schema))
    instances = ODD_VALUES + [{"a": v} for v in ODD_VALUES] + [{"a": {"b": v}} for v in ODD_VALUES]
    instances += [{"a": "x", "z": v} for v in ODD_VALUES] + [[v] for v in ODD_VALUES]
    instances += _mutations({"a": {"b": True}, "c": [1, 2]}, rng, 40)
    valid = 0
    for instance in instances:
        errors = _errors(schema, instance, root_required=root_required)
        if check(instance):
            assert not errors, (instance, errors)
            valid += 1
        elif not errors:
            # Allowed only where the module says it defers: non-scalar enum/const values.
            assert "const" in schema or "enum" in schema, instance
    # The check is not simply "no" (it always defers on a const that is an object).
    assert valid or isinstance(schema.get("const"), dict)


@pytest.mark.parametrize("schema", [
    {"$ref": "#/$defs/x", "$defs": {"x": {}}},
    {"patternProperties": {"^a": {"type": "string"}}},
    {"not": {"type": "string"}},
    {"type": "array", "prefixItems": [{"type": "string"}]},
    {"type": "strange"},
    {"multipleOf": 3},
])  # fmt: skip
def test_unknown_keywords_get_no_check(schema: dict[str, Any]) -> None:
    assert compile_check(schema) is None


def test_strict_validation_still_names_the_problem() -> None:
    """A wrong type is still reported with jsonschema's message after the check defers."""
    registry = ToolRegistry.default()
    example = next(
        ex for line in sample_path().read_bytes().splitlines()
        if (ex := _decoded(line)) and any(
            c.name in registry and registry[c.name].properties for _, c in iter_tool_calls(ex))
    )  # fmt: skip
    turns = example["conversations"]
    _, call = next(
        (i, c)
        for i, c in iter_tool_calls(example)
        if c.name in registry and len(registry[c.name].properties) > 1
    )
    name = next(p for p in registry[call.name].properties if p != "context")
    text = (
        "tool_call: "
        + call.name
        + "\narguments: "
        + orjson.dumps({**call.arguments, name: {"not": "what the schema wants"}}).decode()
        + "\nResult: {}\n"
    )
    broken = {**example, "conversations": [turns[0], {"role": "assistant", "content": text}]}
    issues = validate_example(broken, profile="strict", schemas=registry)
    assert any(i.code == "Q603" and name in i.message for i in issues), issues


def _decoded(line: bytes) -> dict[str, Any] | None:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None
