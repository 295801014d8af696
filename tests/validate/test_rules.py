from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from syngen_improve.context import SEVEN_FIELDS, ContextConvention
from syngen_improve.validate import (
    RULES,
    Issue,
    Level,
    ToolRegistry,
    example_fails,
    validate_example,
)
from tests.helpers import GOOD_CONTEXT, call_text, make_example

#: A convention of a user's own: one field with a pattern that the helpers' ids break.
_TRACE = ContextConvention(name="trace", fields=("sessionId",), patterns={"sessionId": "tr_.*"})
#: The convention a trigger is checked with, when not the seven fields.
_CONVENTION = {"C206": _TRACE}


def _with_assistant(text: str, **kw: Any) -> dict[str, Any]:
    return make_example(assistant=text, **kw)


def _args_text(args: dict[str, Any], tool: str = "vaultManager_listDirectory") -> str:
    return f"tool_call: {tool}\narguments: {json.dumps(args)}\n\nResult: {{}}"


def _ctx(**changes: Any) -> dict[str, Any]:
    ctx: dict[str, Any] = {**GOOD_CONTEXT, **changes}
    return {k: v for k, v in ctx.items() if v is not None}


# code -> (example that triggers it, profile)
TRIGGERS: dict[str, tuple[Callable[[], dict[str, Any]], str]] = {
    "S101": (lambda: {"label": True}, "compatible"),
    "S102": (lambda: {"conversations": [], "label": True}, "compatible"),
    "S103": (
        lambda: {"conversations": [{"role": "assistant", "content": call_text()}], "label": True},
        "compatible",
    ),
    "S104": (
        lambda: {
            **make_example(),
            "conversations": [*make_example()["conversations"], {"role": "tool", "content": "x"}],
        },
        "compatible",
    ),
    "S105": (lambda: make_example(user=None), "compatible"),  # type: ignore[arg-type]
    "S106": (lambda: _with_assistant("   "), "compatible"),
    "S107": (lambda: _with_assistant("Sure, done."), "compatible"),
    "S110": (
        lambda: _with_assistant(call_text().replace("tool_call: ", "tool_call:")),
        "compatible",
    ),
    "S111": (
        lambda: _with_assistant(call_text("listDirectory", params={"path": "x"})),
        "compatible",
    ),
    "S112": (lambda: _with_assistant("tool_call: vaultManager_listDirectory\n"), "compatible"),
    "S113": (
        lambda: _with_assistant(
            call_text(params={"path": "x"}).replace("\narguments:", "\nwith arguments:")
        ),
        "compatible",
    ),
    "S114": (lambda: _with_assistant("tool_call: a_b\narguments: [1]"), "compatible"),
    "C201": (lambda: _with_assistant(_args_text({"path": "x"})), "compatible"),
    "C202": (
        lambda: _with_assistant(_args_text({"path": "x", "context": GOOD_CONTEXT})),
        "compatible",
    ),
    "C203": (
        lambda: _with_assistant(_args_text({"context": _ctx(subgoal=None), "path": "x"})),
        "compatible",
    ),
    "C204": (lambda: make_example(sessionId="session_1_x"), "compatible"),
    "C205": (lambda: make_example(workspaceId="workspace_1731398400000_abcdefghi"), "compatible"),
    "C206": (lambda: make_example(), "compatible"),
    "P301": (lambda: _with_assistant(call_text("vaultManager_teleport", result={})), "compatible"),
    "P302": (lambda: _with_assistant(call_text(result={})), "compatible"),
    "P303": (
        lambda: _with_assistant(call_text(params={"path": "x", "colour": 1}, result={})),
        "compatible",
    ),
    "P304": (
        lambda: _with_assistant(call_text("get_tools", params={"managers": "all"}, result={})),
        "compatible",
    ),
    "R401": (
        lambda: _with_assistant(call_text(params={"path": "x"}) + "\n\nResult: {oops"),
        "compatible",
    ),
    "R402": (lambda: _with_assistant(call_text(params={"path": "x"})), "compatible"),
    "R404": (
        lambda: _with_assistant(call_text(params={"path": "x"}) + '\n\nResult: "3 files"'),
        "compatible",
    ),
    "R403": (
        lambda: _with_assistant(
            "tool_call: vaultManager_listDirectory\nResult: {}\narguments: "
            + json.dumps({"context": GOOD_CONTEXT, "path": "x"})
        ),
        "compatible",
    ),
    "L501": (lambda: {**make_example(), "label": "desirable"}, "compatible"),
    "L502": (lambda: {k: v for k, v in make_example().items() if k != "label"}, "compatible"),
    "Q601": (lambda: make_example(sessionMemory=[]), "strict"),
    "Q602": (lambda: make_example(toolContext="  "), "strict"),
    "Q603": (lambda: _with_assistant(call_text(params={"path": 5}, result={})), "strict"),
}


def test_every_rule_has_a_trigger() -> None:
    assert set(TRIGGERS) == set(RULES)


@pytest.mark.parametrize("code", sorted(TRIGGERS))
def test_rule_triggers(code: str) -> None:
    build, profile = TRIGGERS[code]
    context = _CONVENTION.get(code, SEVEN_FIELDS)
    issues = validate_example(build(), profile=profile, context=context)  # type: ignore[arg-type]
    assert code in {i.code for i in issues}, [str(i) for i in issues]


@pytest.mark.parametrize("profile", ["compatible", "strict"])
def test_a_good_example_triggers_nothing(profile: str) -> None:
    assert validate_example(make_example(), profile=profile) == []  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "example"),
    [
        ("S104", make_example(user="hi")),
        ("S111", _with_assistant(call_text("get_tools", params={"managers": ["a"]}, result={}))),
        (
            "P303",
            _with_assistant(call_text(params={"path": "x", "workspaceContext": {}}, result={})),
        ),
        ("P304", _with_assistant(call_text("get_tools", params={"managers": []}, result={}))),
        ("Q603", _with_assistant(call_text(params={"path": "x"}, result={}))),
        ("C204", make_example(sessionId="session_1731398400000_abcdefghi")),
        # an indented `arguments:` line: valid grammar, as the dataset's own validator says
        (
            "S113",
            _with_assistant(
                call_text(params={"path": "x"}, result={}).replace(
                    "\narguments:", "\n    arguments:"
                )
            ),
        ),
        (
            "S113",
            _with_assistant(
                call_text(params={"path": "x"}, result={}).replace("\narguments:", "\n\targuments:")
            ),
        ),
    ],
)
def test_rule_does_not_trigger(code: str, example: dict[str, Any]) -> None:
    assert code not in {i.code for i in validate_example(example, profile="strict")}


def test_strict_makes_a_missing_result_an_error() -> None:
    example = _with_assistant(call_text(params={"path": "x"}))
    [compatible] = validate_example(example)
    [strict] = validate_example(example, profile="strict")
    assert (compatible.code, compatible.level) == ("R402", Level.WARN)
    assert (strict.code, strict.level) == ("R402", Level.ERROR)
    assert not example_fails(example, [compatible])
    assert example_fails(example, [strict])


def test_label_false_tolerates_content_errors_only() -> None:
    content_bad = _with_assistant(call_text(result={}), label=None)
    content_bad["label"] = False
    issues = validate_example(content_bad)
    assert {i.code for i in issues} == {"P302"}
    assert not example_fails(content_bad, issues)
    content_bad["label"] = True
    assert example_fails(content_bad, issues)
    structural_bad = _with_assistant("tool_call: a_b\narguments: [1]")
    structural_bad["label"] = False
    assert example_fails(structural_bad, validate_example(structural_bad))


def test_issue_location_and_text() -> None:
    two = call_text(params={"path": "x"}, result={}) + "\n\n" + call_text(result={})
    [issue] = validate_example(_with_assistant(two), line=7)
    assert (issue.line, issue.turn, issue.call) == (7, 2, 2)
    assert str(issue) == (
        "line 7, turn 2, call 2: ERROR P302 vaultManager_listDirectory requires parameter 'path'"
    )
    assert issue.to_dict()["name"] == "required-param-missing"
    assert issue.rule is RULES["P302"]
    assert Issue("L502", Level.WARN, "x").location() == ""


def test_custom_registry_and_bad_profile() -> None:
    registry = ToolRegistry.from_json_schemas(
        {
            "vaultManager_listDirectory": {
                "type": "object",
                "properties": {"path": {"type": "string"}},
            }
        }
    )
    example = _with_assistant(call_text(params={"deep": True}, result={}))
    assert [i.code for i in validate_example(example, schemas=registry)] == ["P303"]
    with pytest.raises(ValueError, match="'profile' must be"):
        validate_example(example, profile="lenient")  # type: ignore[arg-type]


def test_every_rule_is_documented() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "validate.md").read_text()
    for rule in RULES.values():
        assert f"| {rule.code} | {rule.name} | {rule.level} |" in doc, rule.code
