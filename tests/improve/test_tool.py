"""The run's submit tool: structured answers, strict where the model and the schema allow,
and a run that goes on without strict when the API refuses the grammar."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from syngen_improve import ToolRegistry, improve_dataset
from syngen_improve._conventions import iter_tool_calls
from syngen_improve.context import NO_CONTEXT, SEVEN_FIELDS
from syngen_improve.errors import StrictToolWarning, UsageError
from syngen_improve.improve._tool import AnswerTool
from syngen_improve.llm import BreakerPolicy, DirectBackend
from syngen_improve.testing import FakeAnthropicServer, FakeConfig

#: Tools of the real slice whose schemas strict tool use can express (17 optional
#: parameters between them), and the slice's rows that call only these.
SMALL = (
    "contentManager_appendContent", "contentManager_createContent",
    "contentManager_readContent", "memoryManager_listSessions",
    "memoryManager_loadWorkspace", "vaultLibrarian_searchContent",
    "vaultManager_createFolder", "vaultManager_listDirectory",
)  # fmt: skip


def _small() -> ToolRegistry:
    tools = ToolRegistry.default()
    return ToolRegistry([tools[n] for n in SMALL])


@pytest.mark.parametrize(("model", "mode", "catalogue", "strict", "why"), [
    ("claude-haiku-4-5", "auto", "small", True, None),
    ("claude-haiku-4-5-20251001", "auto", "small", True, None),
    ("claude-haiku-5-5", "auto", "small", False, "claude-haiku-5-5 is not documented"),
    ("claude-haiku-5-5", "on", "small", True, None),
    ("claude-haiku-4-5", "off", "small", False, "turned off for this run"),
    ("claude-haiku-4-5", "auto", "all", False, "arguments.action is an object with no"),
    ("claude-haiku-4-5", "on", None, False, "the run has no tool schemas"),
])  # fmt: skip
def test_strict_is_used_where_model_and_schema_allow(
    model: str, mode: Any, catalogue: str | None, strict: bool, why: str | None
) -> None:
    tools = {"small": _small(), "all": ToolRegistry.default(), None: None}[catalogue]
    tool = AnswerTool(model, mode, tools, NO_CONTEXT if tools is None else SEVEN_FIELDS)
    assert tool.strict is strict
    assert tool.tool.get("strict", False) is strict
    assert (tool.reason is None) is (why is None)
    if why is not None:
        assert tool.reason is not None
        assert why in tool.reason
    assert tool.to_dict()["strict"] is strict


def test_a_backend_that_cannot_send_strict_gets_none() -> None:
    tool = AnswerTool("claude-haiku-4-5", "on", _small(), SEVEN_FIELDS, sends_strict=False)
    assert not tool.strict
    assert "does not send strict" in (tool.reason or "")
    from syngen_improve.llm import OpenAIBackend

    assert OpenAIBackend.strict_tools is False


def test_a_wrong_strict_option_is_named() -> None:
    from syngen_improve import ImproveConfig

    with pytest.raises(UsageError, match="'strict_tools' must be one of 'auto', 'on', 'off'"):
        ImproveConfig(strict_tools="yes")  # type: ignore[arg-type]


def _subset(shared_data: Path, folder: Path) -> tuple[Path, Path]:
    rows = []
    for line in (shared_data / "scored_sample.jsonl").read_text().splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        names = [c.name for _, c in iter_tool_calls(row)]
        if names and set(names) <= set(SMALL):
            rows.append(row)
    src, schemas = folder / "small.jsonl", folder / "small_tools.json"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    schemas.write_text(json.dumps(_small().to_json_schemas()))
    return src, schemas


async def _run(src: Path, schemas: Path, out: Path, config: FakeConfig) -> tuple[Any, Any]:
    async with FakeAnthropicServer(config=config) as server:
        async with DirectBackend(api_key="sk-t", base_url=server.url,
                                 model="claude-haiku-4-5") as backend:  # fmt: skip
            result = await improve_dataset(
                src, out, backend=backend, progress=False, concurrency=32, schemas=schemas,
                breaker=BreakerPolicy(threshold=1),  # a strict refusal is not the service's
            )  # fmt: skip
        return result.report.to_dict(), server.counters.snapshot()


async def test_strict_answers_on_real_rows_and_the_way_back(
    shared_data: Path, tmp_path: Path
) -> None:
    """On the slice's rows that call eight tools strict can express: every answer is
    strict and passes (slips drawn for 5% are not made); when the API refuses the grammar,
    one request is refused, the run goes on without strict, says why, and completes."""
    src, schemas = _subset(shared_data, tmp_path)
    slips = {"schema_slip": 0.05}
    report, seen = await _run(src, schemas, tmp_path / "strict",
                              FakeConfig(bad_output_rates=slips))  # fmt: skip
    poor = report["counts"]["poor"]
    assert poor == 242
    assert (report["counts"]["improved"], report["counts"]["failed"]) == (poor, 0)
    assert seen["strict_answers"] == seen["requests"] == poor  # every first answer passed
    assert seen["bad_outputs"] == {}
    assert report["answer_tool"] == {
        "answers": "structured",
        "strict_tools": "auto",
        "strict": True,
        "reason": None,
        "strict_refusals": 0,
    }
    with pytest.warns(StrictToolWarning, match="The compiled grammar is too large"):
        report, seen = await _run(src, schemas, tmp_path / "refused",
                                  FakeConfig(bad_output_rates=slips,
                                             strict_grammar_limit=2000))  # fmt: skip
    assert (report["counts"]["improved"], report["counts"]["failed"]) == (poor, 0)
    assert seen["strict_refused"] == 1  # strict requests went one at a time until decided
    assert seen["strict_answers"] == 0
    assert seen["bad_outputs"]["schema_slip"] > 0  # without strict, slips are made ...
    assert report["rejections"] == {"invalid": seen["bad_outputs"]["schema_slip"]}  # ... and caught
    tool = report["answer_tool"]
    assert (tool["strict"], tool["strict_refusals"]) == (False, 1)
    assert "the API refused the strict schema" in tool["reason"]
    assert any(w.startswith("strict tool use is off") for w in report["warnings"])
    assert "not strict (the API refused" in (tmp_path / "refused" / "report.md").read_text()


async def test_slips_on_the_real_slice_are_re_asked_with_schema_errors(
    shared_data: Path, tmp_path: Path
) -> None:
    """Without strict (the default model is not documented to take it), 5% of answers slip
    off a tool's schema; the gate catches every one and the re-ask fixes it."""
    src = shared_data / "scored_sample.jsonl"
    recorded = tmp_path / "requests.jsonl"
    async with FakeAnthropicServer(config=FakeConfig(bad_output_rates={"schema_slip": 0.05}),
                                   record=recorded) as server:  # fmt: skip
        async with DirectBackend(api_key="sk-t", base_url=server.url) as backend:
            result = await improve_dataset(src, tmp_path / "out", backend=backend,
                                           progress=False, concurrency=32)  # fmt: skip
        seen = server.counters.snapshot()
    sent = [json.loads(line) for line in recorded.read_text().splitlines()]
    bodies = [r for r in sent if len(r["messages"]) > 1]
    report = result.report.to_dict()
    slips = seen["bad_outputs"]["schema_slip"]
    assert 0.03 * 568 < slips < 0.07 * 568
    assert (report["counts"]["poor"], report["counts"]["improved"]) == (568, 568)
    assert report["rejections"] == {"invalid": slips}
    assert seen["requests"] == 568 + slips  # first-answer acceptance: (568 - slips) / 568
    assert report["answer_tool"]["strict"] is False
    # One submit tool for the run: the tools block is the same in every request
    assert len({json.dumps(r["tools"]) for r in sent}) == 1
    # Each re-ask tells the model which argument broke which schema rule
    assert len(bodies) == slips
    for body in bodies:
        (result_block,) = body["messages"][-1]["content"]
        assert result_block["is_error"] is True
        # a parameter's type or allowed values (Q603), a required one missing (P302)
        assert re.search(r"- (Q603|P302) \(turn \d+, call 1\)", result_block["content"])


async def test_a_batch_refused_for_its_strict_grammar_goes_again_without(
    shared_data: Path, tmp_path: Path
) -> None:
    """With batches there is no probe (one request at a time would be one batch at a
    time): the API refuses the whole first batch, and every request of it goes again in a
    batch without strict."""
    from syngen_improve.llm import BatchBackend, BatchPacing

    src, schemas = _subset(shared_data, tmp_path)
    async with FakeAnthropicServer(config=FakeConfig(strict_grammar_limit=2000)) as server:
        pacing = BatchPacing(poll_min=0.01, poll_max=0.05, flush_after=0.05)
        backend = BatchBackend(api_key="sk-t", base_url=server.url, model="claude-haiku-4-5",
                               pacing=pacing)  # fmt: skip
        async with backend:
            with pytest.warns(StrictToolWarning):
                result = await improve_dataset(src, tmp_path / "out", backend=backend,
                                               progress=False, schemas=schemas)  # fmt: skip
        seen = server.counters.snapshot()
    report = result.report.to_dict()
    assert (report["counts"]["improved"], report["counts"]["failed"]) == (242, 0)
    assert seen["strict_refused"] == 1  # the first batch
    assert seen["batches_created"] >= 1
    assert report["answer_tool"]["strict"] is False
    assert report["answer_tool"]["strict_refusals"] == 242
