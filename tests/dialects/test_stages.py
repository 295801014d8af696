"""analyze and validate read every dialect as the text grammar: the real slice converted to
each (by the converters of test_dialects) gives the same profile and the same failures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from syngen_improve import analyze_dataset, validate_file
from tests.dialects.test_dialects import to_hermes, to_openai, to_sharegpt


def write_converted(src: Path, out: Path, convert: Any) -> Path:
    """``src`` with each JSON row's turns converted; other lines (a malformed one) kept."""
    lines = []
    for line in src.read_bytes().splitlines():
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError:
            lines.append(line)
            continue
        turns = convert(row)
        rest = {k: v for k, v in row.items() if k != "conversations"}
        lines.append(orjson.dumps({**rest, **turns}))
    out.write_bytes(b"\n".join(lines) + b"\n")
    return out


@pytest.mark.parametrize("convert", [to_openai, to_sharegpt, to_hermes],
                         ids=["openai", "sharegpt", "hermes"])  # fmt: skip
def test_analyze_and_validate_agree_across_dialects(
    shared_data: Path, tmp_path: Path, convert: Any
) -> None:
    src = shared_data / "scored_sample.jsonl"
    converted = write_converted(src, tmp_path / "converted.jsonl", convert)
    want, got = analyze_dataset(src), analyze_dataset(converted)
    assert got.poor == want.poor
    assert got.issues_structural == want.issues_structural
    assert got.tools == want.tools  # Hermes calls are seen, not passed over
    assert sum(got.tools.values()) > 900
    for profile in ("compatible", "strict"):
        a = validate_file(src, profile=profile, workers=1)
        b = validate_file(converted, profile=profile, workers=1)
        assert b.failed_lines == a.failed_lines, profile
        assert b.by_code == a.by_code, profile


@pytest.mark.parametrize(("dialect", "convert"), [
    ("openai", to_openai), ("sharegpt", to_sharegpt), ("hermes", to_hermes),
])  # fmt: skip
async def test_improve_takes_any_dialect_and_answers_in_it(
    tmp_path: Path, dialect: str, convert: Any
) -> None:
    """The bundled sample in another dialect: the same poor examples, all improved; every
    output row is in the input's dialect, passes validation, and exports."""
    from syngen_improve import improve_dataset, sample_path
    from syngen_improve.dialects import detect_dialect, read_conversation
    from syngen_improve.export import export_file
    from syngen_improve.llm import DirectBackend
    from syngen_improve.testing import FakeAnthropicServer

    converted = write_converted(sample_path(), tmp_path / "in.jsonl", convert)
    async with FakeAnthropicServer() as server:
        results = []
        for name, src in (("original", sample_path()), ("converted", converted)):
            async with DirectBackend(api_key="sk-t", base_url=server.url) as backend:
                results.append(await improve_dataset(src, tmp_path / name, backend=backend,
                                                     progress=False))  # fmt: skip
    original, other = (r.report for r in results)
    assert (other.counts.poor, other.counts.improved) == (original.counts.poor,
                                                          original.counts.improved)  # fmt: skip
    assert other.counts.improved > 100
    assert other.counts.failed == 0
    out = tmp_path / "converted"
    for name in ("improved_examples.jsonl", "poor_examples.jsonl", "improved_interleaved.jsonl"):
        rows = [orjson.loads(x) for x in (out / name).read_bytes().splitlines()]
        assert {detect_dialect(r) for r in rows} == {dialect}, name
        assert all(read_conversation(r).calls for r in rows)
    assert validate_file(out / "improved_examples.jsonl", workers=1).failed == 0
    # the report read the rows through the dialect: the same checks as for the original
    mine, theirs = other.to_dict(), original.to_dict()
    keys = ("rows", "desirable", "undesirable", "alternating", "longest_run", "close_prompts",
            "batches_lacking_a_label")  # fmt: skip
    assert {k: mine["interleaving"][k] for k in keys} == {
        k: theirs["interleaving"][k] for k in keys}  # fmt: skip
    assert mine["strict_validation"] == theirs["strict_validation"]
    assert mine["label_shortcuts"]["desirable"] == theirs["label_shortcuts"]["desirable"]
    stats = export_file(out / "improved_interleaved.jsonl", tmp_path / "kto.jsonl", fmt="kto")
    assert stats.written == other.counts.interleaved


def test_the_dialect_can_be_forced_and_is_checked(tmp_path: Path) -> None:
    from syngen_improve import ImproveConfig, sample_path
    from syngen_improve.cli import main

    converted = write_converted(sample_path(), tmp_path / "in.jsonl", to_sharegpt)
    forced, original = (
        analyze_dataset(converted, dialect="sharegpt"),
        analyze_dataset(sample_path()),
    )
    assert (forced.poor, forced.tools) == (original.poor, original.tools)
    # read as the wrong dialect, the rows have no turns: no call is seen
    assert analyze_dataset(converted, dialect="openai").tools == {}
    with pytest.raises(ValueError, match="'dialect' must be one of"):
        ImproveConfig(dialect="csv")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'dialect' must be one of"):
        validate_file(converted, dialect="csv")  # type: ignore[arg-type]
    assert main(["validate", str(converted), "--dialect", "sharegpt"]) == main(
        ["validate", str(sample_path())])  # fmt: skip
    assert main(["analyze", str(converted), "--dialect", "sharegpt", "--json"]) == 0


async def test_a_mixed_file_is_read_row_by_row_and_reported_by_line(tmp_path: Path) -> None:
    """Rows in another dialect than the file's first are read in their own, and their lines
    are named by analyze and in the run's report."""
    from syngen_improve import improve_dataset, sample_path
    from syngen_improve.llm import DirectBackend
    from syngen_improve.testing import FakeAnthropicServer

    src = tmp_path / "mixed.jsonl"
    lines = sample_path().read_bytes().splitlines()
    out_lines = []
    for n, line in enumerate(lines, 1):
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError:
            out_lines.append(line)
            continue
        if n in (5, 9):  # two rows in OpenAI form inside a text-grammar file
            rest = {k: v for k, v in row.items() if k != "conversations"}
            row = {**rest, **to_openai(row)}
        out_lines.append(orjson.dumps(row))
    src.write_bytes(b"\n".join(out_lines) + b"\n")
    profile = analyze_dataset(src)
    assert (profile.dialect, profile.other_dialect) == ("text", 2)
    assert profile.other_dialect_lines == [5, 9]
    assert profile.poor == analyze_dataset(sample_path()).poor
    assert "lines [5, 9]" in profile.format_table()
    async with (
        FakeAnthropicServer() as server,
        DirectBackend(api_key="k", base_url=server.url) as b,
    ):
        result = await improve_dataset(src, tmp_path / "out", backend=b, progress=False)
    assert any("lines [5, 9]" in w for w in result.report.to_dict()["warnings"])
    assert result.report.counts.failed == 0


def test_a_rows_own_tools_are_its_schemas(tmp_path: Path) -> None:
    """An OpenAI row that defines its tools is validated against them (no schema file):
    its tool is known, and a wrong argument type is found by that tool's schema."""
    from syngen_improve import validate_example
    from syngen_improve.dialects import as_text_grammar

    tools = [{"type": "function", "function": {
        "name": "weather_lookup", "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                       "required": ["city"]}}}]  # fmt: skip

    def row(arguments: str, with_tools: bool) -> dict[str, Any]:
        call = {"id": "a", "type": "function",
                "function": {"name": "weather_lookup", "arguments": arguments}}  # fmt: skip
        data: dict[str, Any] = {"label": True, "messages": [
            {"role": "user", "content": "Weather in Lisbon?"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "a", "content": '{"temp": 21}'},
        ]}  # fmt: skip
        if with_tools:
            data["tools"] = tools
        return as_text_grammar(data)

    def codes(example: dict[str, Any]) -> set[str]:
        return {i.code for i in validate_example(example, profile="strict")}

    assert "P301" in codes(row('{"city": "Lisbon"}', with_tools=False))  # unknown tool
    assert not {"P301", "Q603"} & codes(row('{"city": "Lisbon"}', with_tools=True))
    assert "Q603" in codes(row('{"city": 5}', with_tools=True))  # its schema says string
    as_string = row('{"city": 5}', with_tools=True)
    as_string["tools"] = orjson.dumps(tools).decode()  # ShareGPT keeps tools as a string
    assert "Q603" in codes(as_string)


async def test_a_resumed_run_keeps_its_dialect(tmp_path: Path) -> None:
    """An OpenAI run stopped after 60 lines and resumed: every poor example once, every row
    still OpenAI chat."""
    from syngen_improve import improve_dataset, sample_path
    from syngen_improve.dialects import detect_dialect
    from syngen_improve.llm import DirectBackend
    from syngen_improve.testing import FakeAnthropicServer

    src = write_converted(sample_path(), tmp_path / "in.jsonl", to_openai)
    out = tmp_path / "out"
    async with (
        FakeAnthropicServer() as server,
        DirectBackend(api_key="k", base_url=server.url) as backend,
    ):
        first = await improve_dataset(src, out, backend=backend, progress=False, limit=60)
        done = await improve_dataset(src, out, backend=backend, progress=False, resume=True)
    assert 0 < first.counts.improved < done.counts.improved == done.counts.poor
    for name in ("improved_examples.jsonl", "poor_examples.jsonl", "improved_interleaved.jsonl"):
        rows = [orjson.loads(x) for x in (out / name).read_bytes().splitlines()]
        assert {detect_dialect(r) for r in rows} == {"openai"}, name
        lines = [(r["_source_line"], r["label"]) for r in rows]
        assert len(lines) == len(set(lines)), f"a row twice in {name}"
