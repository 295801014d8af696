"""A dataset without the context convention runs end to end: plain OpenAI tool calls (the
bundled sample converted, its context objects dropped, its tools carried by each row)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from syngen_improve import (
    Record,
    ToolRegistry,
    improve_dataset,
    read_jsonl,
    sample_path,
    validate_file,
)
from syngen_improve.dialects import detect_dialect, read_conversation
from syngen_improve.errors import CacheWarning
from tests.dialects.test_dialects import to_openai
from tests.dialects.test_stages import write_converted


def _tools() -> list[dict[str, Any]]:
    """The bundled tools in OpenAI form, without their context parameter."""
    out = []
    for name, schema in ToolRegistry.default().to_json_schemas().items():
        props = {k: v for k, v in schema.get("properties", {}).items() if k != "context"}
        required = [r for r in schema.get("required", []) if r != "context"]
        params = {**schema, "properties": props, "required": required}
        out.append({"type": "function", "function": {"name": name, "parameters": params}})
    return out


def to_plain_openai(row: dict[str, Any]) -> dict[str, Any]:
    """OpenAI messages whose calls carry only the tool's own arguments, with the tools."""
    messages = to_openai(row)["messages"]
    for msg in messages:
        for call in msg.get("tool_calls") or []:
            args = json.loads(call["function"]["arguments"])
            if isinstance(args, dict):
                args.pop("context", None)
            call["function"]["arguments"] = json.dumps(args)
    return {"messages": messages, "tools": TOOLS}


TOOLS = _tools()


async def test_plain_openai_data_runs_end_to_end(tmp_path: Path) -> None:
    from syngen_improve.llm import DirectBackend
    from syngen_improve.testing import FakeAnthropicServer

    src = write_converted(sample_path(), tmp_path / "plain.jsonl", to_plain_openai)
    recorded = tmp_path / "requests.jsonl"
    async with (
        FakeAnthropicServer(record=recorded) as server,
        DirectBackend(api_key="sk-t", base_url=server.url) as backend,
    ):
        # The prompt of data without the seven fields is too short to be cached: said once
        with pytest.warns(CacheWarning, match="prompt caching is off") as said:
            result = await improve_dataset(src, tmp_path / "out", backend=backend,
                                           progress=False)  # fmt: skip
    assert len(said) == 1
    report, out = result.report, tmp_path / "out"
    cache = report.to_dict()["cache"]
    assert (cache["status"], cache["read_tokens"], cache["write_tokens"]) == ("inactive", 0, 0)
    assert "below an assumed (undocumented) minimum of 4,096" in cache["reason"]
    assert any("prompt caching is off" in w for w in report.to_dict()["warnings"])
    analysis = json.loads((out / "state" / "analysis.json").read_text())
    assert analysis["context"]["name"] == "none"
    for kind in ("missing_context", "malformed_ids", "empty_session_memory",
                 "generic_tool_context", "weak_goals"):  # fmt: skip
        assert analysis["issues_structural"][kind] == 0, kind
    assert report.counts.poor > 100
    assert (report.counts.improved, report.counts.failed) == (report.counts.poor, 0)
    assert report.to_dict()["strict_validation"]["context"] == "none"
    assert report.to_dict()["strict_validation"]["passed"] == report.counts.improved
    # The prompt said nothing of a context object; the answers added none
    bodies = [orjson.loads(x) for x in recorded.read_bytes().splitlines()]
    systems = ["".join(b["text"] for b in body["system"]) for body in bodies]
    assert systems
    assert not any("sessionMemory" in s or "`context`" in s for s in systems)
    rows = [orjson.loads(x) for x in (out / "improved_examples.jsonl").read_bytes().splitlines()]
    assert {detect_dialect(r) for r in rows} == {"openai"}
    calls = [c for r in rows for c in read_conversation(r).calls]
    assert len(calls) >= report.counts.improved
    assert not any("context" in c.arguments for c in calls)
    # Every row keeps its calls' ids from the input: both sides of a pair alike
    inputs = {i.line: i.data for i in read_jsonl(src) if isinstance(i, Record)}
    for name in ("improved_examples.jsonl", "poor_examples.jsonl"):
        for row in (orjson.loads(x) for x in (out / name).read_bytes().splitlines()):
            ids = [c.id for c in read_conversation(row).calls]
            assert ids == [c.id for c in read_conversation(inputs[row["_source_line"]]).calls]
    # The improvements pass strict validation without a schema file: the rows' tools
    strict = validate_file(out / "improved_examples.jsonl", profile="strict", workers=1)
    assert (strict.context.name, strict.failed) == ("none", 0)
    assert "P301" not in strict.by_code


async def test_a_resume_with_another_convention_is_a_settings_change(tmp_path: Path) -> None:
    """The convention is part of what a run writes: resuming a run made with ``none``
    under the seven fields (whose settings carry no ``context`` key) is refused, and the
    report of the run says which convention it used."""
    from syngen_improve.errors import SettingsChanged
    from syngen_improve.llm import DirectBackend
    from syngen_improve.testing import FakeAnthropicServer

    src = write_converted(sample_path(), tmp_path / "plain.jsonl", to_plain_openai)
    out = tmp_path / "out"
    async with (
        FakeAnthropicServer() as server,
        DirectBackend(api_key="sk-t", base_url=server.url) as backend,
    ):
        with pytest.warns(CacheWarning):
            await improve_dataset(src, out, backend=backend, progress=False, limit=20)
        with pytest.raises(SettingsChanged, match=r"context: none \w+ -> None"):
            await improve_dataset(src, out, backend=backend, progress=False, resume=True,
                                  context="context7")  # fmt: skip
        with pytest.warns(CacheWarning):
            again = await improve_dataset(src, out, backend=backend, progress=False,
                                          resume=True)  # fmt: skip
    assert again.report.to_dict()["strict_validation"]["context"] == "none"
    assert again.report.counts.input == 200
