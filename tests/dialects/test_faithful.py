"""Data that leaves a run is the data that came in: real rows converted to OpenAI chat (an
assistant's text and each of its calls as consecutive messages, arguments with ``\\u``
escapes) and to Hermes ``from``/``value`` entries, by converters written here apart from
the package. Every original written back is its input row (the documented keys aside), and
every improvement keeps its input's entry style and the sequence of its non-tool messages.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from syngen_improve import improve_dataset, parse_tool_calls
from syngen_improve.dialects import read_conversation, read_text, restyle
from syngen_improve.testing import FakeBackend, FakeConfig
from tests.dialects.test_dialects import to_hermes, to_openai, to_sharegpt

#: The keys a run adds to an original (``label`` is set, the input's own is replaced).
ADDED = {"label", "_source_line", "_source_key", "_provenance"}
ROWS = 300


def split_assistant(content: str) -> list[tuple[str, Any]]:
    """An assistant content as ("text", str) and ("call", parsed call) pieces."""
    pieces: list[tuple[str, Any]] = []
    pos = 0
    for call in parse_tool_calls(content):
        if content[pos : call.span[0]].strip():
            pieces.append(("text", content[pos : call.span[0]].strip()))
        pieces.append(("call", call))
        pos = call.span[1]
    if content[pos:].strip():
        pieces.append(("text", content[pos:].strip()))
    return pieces


def openai_apart(row: dict[str, Any], n: int) -> dict[str, Any]:
    """OpenAI chat as some exporters write it: text in its own assistant message, then one
    message per call (``json.dumps`` defaults: non-ASCII escaped), then its result."""
    messages: list[dict[str, Any]] = []
    for t, turn in enumerate(row["conversations"]):
        if turn["role"] != "assistant":
            messages.append({"role": turn["role"], "content": turn["content"]})
            continue
        for k, (kind, piece) in enumerate(split_assistant(turn["content"])):
            if kind == "text":
                messages.append({"role": "assistant", "content": piece})
                continue
            cid = f"call_{n}_{t}_{k}"
            arguments = piece.arguments if piece.arguments_error is None else {}
            function = {"name": piece.name, "arguments": json.dumps(arguments)}
            call = {"id": cid, "type": "function", "function": function}
            messages.append({"content": None, "role": "assistant", "tool_calls": [call]})
            if piece.has_result and piece.result_error is None:
                messages.append({"role": "tool", "tool_call_id": cid, "name": piece.name,
                                 "content": json.dumps(piece.result)})  # fmt: skip
    return {"messages": messages}


def hermes_from_value(row: dict[str, Any], n: int) -> dict[str, Any]:
    """Hermes tags in ShareGPT's ``from``/``value`` entries (``human``/``gpt``/``tool``)."""
    names = {"user": "human", "assistant": "gpt", "system": "system"}
    out: list[dict[str, str]] = []
    for turn in row["conversations"]:
        if turn["role"] != "assistant":
            out.append({"from": names[turn["role"]], "value": turn["content"]})
            continue
        text, results = [], []
        for kind, piece in split_assistant(turn["content"]):
            if kind == "text":
                text.append(piece)
                continue
            arguments = piece.arguments if piece.arguments_error is None else {}
            body = json.dumps({"name": piece.name, "arguments": arguments})
            text.append(f"<tool_call>\n{body}\n</tool_call>")
            if piece.has_result and piece.result_error is None:
                results.append(f"<tool_response>\n{json.dumps(piece.result)}\n</tool_response>")
        out.append({"from": "gpt", "value": "\n".join(text)})
        if results:
            out.append({"from": "tool", "value": "\n".join(results)})
    return {"conversations": out}


def _theirs(convert: Any) -> Any:
    """A converter of ``test_dialects`` (rows of turns) taking the line number too."""
    return lambda row, n: convert(row)


CONVERTERS = {
    "openai-apart": openai_apart,
    "hermes-from-value": hermes_from_value,
    "openai": _theirs(to_openai),
    "sharegpt": _theirs(to_sharegpt),
    "hermes": _theirs(to_hermes),
}


def convert(src: Path, out: Path, converter: Any) -> dict[int, dict[str, Any]]:
    """The first rows of ``src`` converted, keys in the input's order; the rows by line."""
    rows: dict[int, dict[str, Any]] = {}
    lines = []
    for n, line in enumerate(src.read_bytes().splitlines()[:ROWS], 1):
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError:
            lines.append(line)
            continue
        turns = converter(row, n)
        ((container, entries_),) = turns.items()
        converted = {(container if k == "conversations" else k):
                     (entries_ if k == "conversations" else v) for k, v in row.items()}  # fmt: skip
        rows[n] = converted
        lines.append(json.dumps(converted).encode())
    out.write_bytes(b"\n".join(lines) + b"\n")
    return rows


def entries(row: dict[str, Any]) -> list[dict[str, Any]]:
    turns = row.get("messages", row.get("conversations"))
    assert isinstance(turns, list)
    return turns


def style(row: dict[str, Any]) -> tuple[str, frozenset[str], list[str]]:
    """The container, the entry keys and the sequence of non-tool entries' roles."""
    turns = entries(row)
    keys = frozenset(k for e in turns for k in e if k in ("role", "content", "from", "value"))
    kinds = [str(e.get("role", e.get("from"))) for e in turns]
    container = "messages" if "messages" in row else "conversations"
    return container, keys, [k for k in kinds if k not in ("tool", "observation")]


@pytest.mark.parametrize("name", list(CONVERTERS))
async def test_originals_are_the_input_rows_and_improvements_keep_their_form(
    shared_data: Path, tmp_path: Path, name: str
) -> None:
    converter = CONVERTERS[name]
    rows = convert(shared_data / "scored_sample.jsonl", tmp_path / "in.jsonl", converter)
    # Some answers refused, some cut short: failed.jsonl gets originals too.
    config = FakeConfig(bad_output_rates={"refusal": 0.05, "truncated_json": 0.05})
    async with FakeBackend(config) as backend:
        result = await improve_dataset(tmp_path / "in.jsonl", tmp_path / "out", backend=backend,
                                       progress=False, concurrency=16)  # fmt: skip
    out = tmp_path / "out"
    report = result.report
    assert report.counts.improved > 150
    assert report.counts.failed > 0

    def read(name: str) -> list[dict[str, Any]]:
        return [orjson.loads(x) for x in (out / name).read_bytes().splitlines()]

    def unlabelled(row: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in row.items() if k not in ADDED}

    originals = read("poor_examples.jsonl")
    assert len(originals) == report.counts.poor
    differing = [
        o["_source_line"] for o in originals
        if list(unlabelled(o).items()) != list(unlabelled(rows[o["_source_line"]]).items())
    ]  # fmt: skip
    assert differing == []
    assert all(o["label"] is False for o in originals)
    failed = read("failed.jsonl")
    assert len(failed) == report.counts.failed
    assert [f["_source_line"] for f in failed if f["original"] != rows[f["_source_line"]]] == []
    assert [list(f["original"]) for f in failed] == [
        list(rows[f["_source_line"]]) for f in failed]  # fmt: skip
    # The KTO file's undesirable side is the originals, its desirable side the improvements.
    improved = read("improved_examples.jsonl")
    kto = read("improved_interleaved.jsonl")
    by_line = {o["_source_line"]: o for o in originals}
    assert [r for r in kto if r["label"] is False] == [
        by_line[r["_source_line"]] for r in kto if r["label"] is False]  # fmt: skip
    assert sorted(r["_source_line"] for r in kto if r["label"]) == sorted(
        r["_source_line"] for r in improved)  # fmt: skip
    for row in improved:
        given = rows[row["_source_line"]]
        assert style(row) == style(given), row["_source_line"]
        # the input's keys it keeps are in the input's order, the container first
        assert [k for k in row if k in given] == [k for k in given if k in row]
        assert next(iter(row)) == next(iter(given))
    # the improvements did change what they were asked to change
    assert sum(entries(r) != entries(rows[r["_source_line"]]) for r in improved) == len(improved)


def _text_row(*turns: tuple[str, str]) -> dict[str, Any]:
    return {"conversations": [{"role": r, "content": c} for r, c in turns], "label": True}


CALL = 'tool_call: lookup\narguments: {"q": "caf\u00e9"}'
RESULT = '\n\nResult: {"hits": 2}'


def test_a_result_the_improvement_adds_goes_after_its_call_in_each_dialect() -> None:
    before = _text_row(("user", "Find the café."), ("assistant", f"Looking.\n\n{CALL}"))
    after = _text_row(("user", "Find the café."),
                      ("assistant", f"Looking.\n\n{CALL}{RESULT}\n\nTwo hits."))  # fmt: skip
    hermes = hermes_from_value(before, 1)
    out = restyle(hermes, after, "hermes")["conversations"]
    assert out[0] is hermes["conversations"][0]  # an unchanged turn is the input's own
    assert [e["from"] for e in out] == ["human", "gpt", "tool", "gpt"]
    assert read_conversation({"conversations": out}) == read_text(after)
    apart = openai_apart(before, 1)  # read as two assistant turns: text, then the call
    after = _text_row(("user", "Find the café."), ("assistant", "Looking."),
                      ("assistant", f"{CALL}{RESULT}\n\nTwo hits."))  # fmt: skip
    out = restyle(apart, after, "openai")["messages"]
    assert [m["role"] for m in out] == ["user", "assistant", "assistant", "tool", "assistant"]
    assert out[3]["tool_call_id"] == out[2]["tool_calls"][0]["id"] == "call_1_1_1"
    # the call did not change: its arguments are the input's string, escapes and all
    assert out[2]["tool_calls"][0] is apart["messages"][2]["tool_calls"][0]
    assert "\\u00e9" in out[2]["tool_calls"][0]["function"]["arguments"]


def test_a_changed_text_and_call_are_written_in_place() -> None:
    before = _text_row(("user", "Find it."), ("assistant", f"{CALL}{RESULT}\n\nDone, poorly."))
    new_call = CALL.replace("caf\u00e9", "caf\u00e9 near me")
    after = _text_row(("user", "Find it."), ("assistant", f"{new_call}{RESULT}\n\nTwo hits."))
    hermes = hermes_from_value(before, 1)
    out = restyle(hermes, after, "hermes")["conversations"]
    # the text after the tag stays in the tag's entry, the response is the input's own
    assert [e["from"] for e in out] == ["human", "gpt", "tool"]
    assert out[1]["value"].endswith("</tool_call>\nTwo hits.")
    assert "<tool_call>\n{" in out[1]["value"]
    assert out[2] is hermes["conversations"][2]
    assert read_conversation({"conversations": out}) == read_text(after)


def test_an_improvement_of_another_shape_is_written_anew_in_the_rows_form() -> None:
    before = _text_row(("user", "Find it."), ("assistant", CALL))
    after = _text_row(("user", "Find it."), ("assistant", f"First I search.\n\n{CALL}{RESULT}"))
    hermes = hermes_from_value(before, 1)
    out = restyle(hermes, after, "hermes")["conversations"]
    assert {k for e in out for k in e} == {"from", "value"}
    assert [e["from"] for e in out] == ["human", "gpt", "tool"]
    assert read_conversation({"conversations": out}) == read_text(after)
    sharegpt = {"system": "Be brief.", **to_sharegpt(before)}
    turns = [(t["role"], t["content"]) for t in after["conversations"]]
    changed = _text_row(("system", "Be very brief."), *turns)
    written = restyle(sharegpt, changed, "sharegpt")
    assert written["system"] == "Be very brief."  # the top-level prompt stays where it was
    assert written["conversations"][0]["from"] == "human"
