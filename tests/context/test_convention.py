"""Context conventions: loading a user's own, detection, and the rules and detectors that
follow the convention in use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from syngen_improve import analyze_dataset, detect_structural, validate_example, validate_file
from syngen_improve.context import (
    NO_CONTEXT,
    SEVEN_FIELDS,
    ContextConvention,
    detect_convention,
    load_convention,
    resolve_convention,
)
from syngen_improve.errors import InputNotFound, InvalidInput, UsageError
from tests.helpers import make_example

TRACE_TOML = """\
name = "trace"
key = "trace"
first = false
fields = ["traceId", "reason"]

[patterns]
traceId = "tr_[0-9a-f]{8}"

[descriptions]
reason = "why this call, in one sentence"
"""


def _call(args: dict[str, Any], tool: str = "weather_lookup") -> dict[str, Any]:
    text = f'tool_call: {tool}\narguments: {json.dumps(args)}\n\nResult: {{"ok": true}}'
    return {"conversations": [{"role": "user", "content": "What's the weather in Lisbon?"},
                              {"role": "assistant", "content": text}], "label": True}  # fmt: skip


def _codes(
    example: dict[str, Any], context: ContextConvention, profile: Any = "strict"
) -> set[str]:
    return {i.code for i in validate_example(example, profile=profile, context=context)}


def test_a_convention_file_in_toml_or_json(tmp_path: Path) -> None:
    toml = tmp_path / "trace.toml"
    toml.write_text(TRACE_TOML)
    conv = load_convention(toml)
    assert (conv.name, conv.key, conv.first, conv.fields) == (
        "trace", "trace", False, ("traceId", "reason"))  # fmt: skip
    as_json = tmp_path / "trace.json"
    as_json.write_text(json.dumps(conv.to_dict()))
    assert load_convention(as_json) == conv
    assert resolve_convention(str(toml)) == conv
    assert resolve_convention("none") is NO_CONTEXT
    assert resolve_convention("context7") is SEVEN_FIELDS
    assert resolve_convention("auto") is None
    assert resolve_convention(None) is None


@pytest.mark.parametrize(("text", "message"), [
    ('name = "x"\nfeilds = ["a"]\n', "unknown key(s) ['feilds']"),
    ('fields = "a"\n', "'fields' must be a list"),
    ('fields = ["a"]\n[patterns]\nb = "x"\n', "'patterns' names field(s) not in 'fields': ['b']"),
    ('fields = ["a"]\n[patterns]\na = "("\n', "the pattern of 'a' is not a regular expression"),
    ('fields = ["a", "a"]\n', "'fields' must be distinct non-empty names"),
    ('key = ""\nfields = ["a"]\n', "needs a 'key'"),
    ("fields = [\n", "not valid TOML"),
])  # fmt: skip
def test_a_bad_convention_file_names_the_file_and_the_fault(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(text)
    with pytest.raises(InvalidInput) as err:
        load_convention(path)
    assert str(path) in str(err.value)
    assert message in str(err.value)


def test_unknown_names_and_missing_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="'context' must be 'auto'"):
        resolve_convention("seven")
    with pytest.raises(InputNotFound, match=r"nope\.toml"):
        resolve_convention(str(tmp_path / "nope.toml"))
    with pytest.raises(UsageError, match="'context' must be"):
        resolve_convention(7)


def test_detection_from_the_calls() -> None:
    seven = make_example()
    plain = _call({"city": "Lisbon"})
    assert detect_convention([seven]) is SEVEN_FIELDS
    assert detect_convention([plain]) is NO_CONTEXT
    assert detect_convention([{"conversations": []}]) is NO_CONTEXT  # no call decides nothing
    # The seven fields when at least half of the calls carry them (a poor row lacking its
    # context does not turn the file's convention off)
    assert detect_convention([seven, plain]) is SEVEN_FIELDS
    assert detect_convention([seven, plain, plain]) is NO_CONTEXT
    # A `context` argument of another shape is not the convention
    assert detect_convention([_call({"context": "home", "city": "Lisbon"})]) is NO_CONTEXT


def test_the_real_slice_is_detected_as_the_seven_fields(shared_data: Path) -> None:
    path = shared_data / "scored_sample.jsonl"
    assert analyze_dataset(path).context == "context7"
    assert validate_file(path, workers=1).context is SEVEN_FIELDS


def test_no_convention_applies_no_context_rule() -> None:
    plain = _call({"city": "Lisbon"})
    assert _codes(plain, SEVEN_FIELDS) >= {"C201"}
    assert not {c for c in _codes(plain, NO_CONTEXT) if c[0] == "C" or c in ("Q601", "Q602")}
    assert detect_structural(plain, context=NO_CONTEXT) == {}
    assert "missing_context" in detect_structural(plain)  # the default is the seven fields
    # A `context` object in data without the convention is only an argument
    seven = make_example(sessionMemory="", sessionId="bad")
    assert "C204" not in _codes(seven, NO_CONTEXT)
    assert not {"empty_session_memory", "malformed_ids"} & detect_structural(
        seven, context=NO_CONTEXT).keys()  # fmt: skip


def test_a_convention_of_ones_own(tmp_path: Path) -> None:
    path = tmp_path / "trace.toml"
    path.write_text(TRACE_TOML)
    conv = load_convention(path)
    good = _call({"city": "Lisbon", "trace": {"traceId": "tr_0a1b2c3d", "reason": "asked"}})
    assert not {c for c in _codes(good, conv) if c[0] in "CQ"}  # not first: allowed here
    assert detect_structural(good, context=conv) == {}
    bad_id = _call({"trace": {"traceId": "trace-1", "reason": "asked"}, "city": "Lisbon"})
    assert "C206" in _codes(bad_id, conv)
    assert "malformed_ids" in detect_structural(bad_id, context=conv)
    missing = _call({"trace": {"traceId": "tr_0a1b2c3d"}, "city": "Lisbon"})
    assert "C203" in _codes(missing, conv)
    assert "missing_context" in detect_structural(missing, context=conv)
    blank = _call({"trace": {"traceId": "tr_0a1b2c3d", "reason": " "}, "city": "Lisbon"})
    assert "Q602" in _codes(blank, conv)
    assert "C201" in _codes(_call({"city": "Lisbon"}), conv)
    # The seven fields' content detectors need the fields they read
    assert "empty_session_memory" not in detect_structural(missing, context=conv)
    # The seven-field example breaks this convention, not its own
    seven = make_example()
    assert "C201" in _codes(seven, conv)
    assert validate_example(seven, profile="strict") == []


def test_first_is_enforced_when_asked() -> None:
    conv = ContextConvention(name="x", key="meta", fields=("a",))
    late = _call({"city": "Lisbon", "meta": {"a": "b"}})
    assert "C202" in _codes(late, conv)
    assert "missing_context" in detect_structural(late, context=conv)


def test_the_cli_takes_a_convention(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from syngen_improve.cli import main

    conv_file = tmp_path / "trace.toml"
    conv_file.write_text(TRACE_TOML)
    data = tmp_path / "in.jsonl"
    rows = [_call({"city": "Lisbon", "trace": {"traceId": "tr_0a1b2c3d", "reason": "asked"}}),
            _call({"city": "Porto", "trace": {"traceId": "nope", "reason": "asked"}})]  # fmt: skip
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["validate", str(data), "--context", str(conv_file), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert (out["context"], out["failed_lines"], list(out["by_code"])) == (
        "trace",
        [2],
        ["C206", "P301"],
    )
    assert main(["validate", str(data), "--json"]) == 0  # detected: no convention
    assert json.loads(capsys.readouterr().out)["context"] == "none"
    assert main(["analyze", str(data), "--context", str(conv_file), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["context"] == "trace"
    assert main(["validate", str(data), "--context", "bogus"]) == 2
    assert "'context' must be 'auto'" in capsys.readouterr().err
