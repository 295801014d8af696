"""Structured answers: the schema of an example described by its structure, and the
rendering of the text grammar from it (the next step wires them into the request)."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest

from syngen_improve import Record, ToolRegistry, read_jsonl, sample_path
from syngen_improve.context import NO_CONTEXT, SEVEN_FIELDS
from syngen_improve.dialects import canonical
from syngen_improve.prompts._structured import answer_schema, render_answer, to_structured
from syngen_improve.prompts._system import _examples


def _rows() -> list[dict[str, Any]]:
    return [i.data for i in read_jsonl(sample_path()) if isinstance(i, Record)]


def test_every_real_row_round_trips_through_its_structure() -> None:
    rows = _rows()
    assert len(rows) == 199
    for row in rows:
        out, why = render_answer(to_structured(row, SEVEN_FIELDS), SEVEN_FIELDS)
        assert why is None
        assert out is not None
        assert out["conversations"] == canonical(row)["conversations"]


def _validator(context: Any = SEVEN_FIELDS) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(answer_schema(ToolRegistry.default(), context))


def test_good_answers_pass_the_schema_and_slips_are_named() -> None:
    validator = _validator()
    good = to_structured({"conversations": _examples()[3]["after"]}, SEVEN_FIELDS)
    assert list(validator.iter_errors(good)) == []
    slips = {
        "enum": lambda call: call["arguments"].update(enabledOnly="yes"),
        "pattern": lambda call: call["context"].update(sessionId="session_1"),
        "blank": lambda call: call["context"].update(sessionMemory=""),
        "missing": lambda call: call["context"].pop("subgoal"),
        "unknown tool": lambda call: call.update(tool="agentManager_listAgentz"),
    }
    for name, slip in slips.items():
        bad = copy.deepcopy(good)
        slip(bad["turns"][1]["parts"][0])
        assert list(validator.iter_errors(bad)), name


def test_without_a_convention_there_is_no_context_to_write() -> None:
    tools = ToolRegistry.from_json_schemas(
        {
            "vaultManager_openNote": {
                "type": "object",
                "properties": {"path": {"type": "string"}},
                "required": ["path"],
            }
        }
    )
    schema = answer_schema(tools, NO_CONTEXT)
    assert "context" not in str(schema)
    answer = {"turns": [{"role": "user", "text": "Open my note"}, {"role": "assistant",
              "parts": [{"text": "Opening it."}, {"tool": "vaultManager_openNote",
                         "arguments": {"path": "a.md"}, "result": {"opened": True}}]}]}  # fmt: skip
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(answer)) == []
    out, _ = render_answer(answer, NO_CONTEXT)
    assert out is not None
    assert out["conversations"][1]["content"] == (
        'Opening it.\n\ntool_call: vaultManager_openNote\narguments: {"path": "a.md"}'
        '\n\nResult: {"opened": true}'
    )
    # Any tool when there is no catalogue (a row's own tools are checked by the gate)
    anything = answer_schema(None, NO_CONTEXT)
    assert list(jsonschema.Draft202012Validator(anything).iter_errors(answer)) == []


@pytest.mark.parametrize(("answer", "why"), [
    ({}, "no 'turns' list"),
    ({"turns": [{"role": "tool", "text": "x"}]}, "turn 1 is not"),
    ({"turns": [{"role": "assistant", "parts": [{"image": 1}]}]}, "neither a text nor"),
])  # fmt: skip
def test_a_shape_that_is_not_an_answer_says_why(answer: dict[str, Any], why: str) -> None:
    out, reason = render_answer(answer, SEVEN_FIELDS)
    assert out is None
    assert reason is not None
    assert why in reason
