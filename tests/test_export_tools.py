"""The exports of an OpenAI-dialect run: every format loads in ``datasets``, the
conversational ones keep native ``tool_calls``, and a tokenizer's chat template with tool
support renders a row (a tiny local tokenizer: no hub)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from syngen_improve import improve_dataset, sample_path
from syngen_improve.errors import CacheWarning
from syngen_improve.export import FORMATS, export_file
from tests.context.test_run import to_plain_openai
from tests.dialects.test_stages import write_converted
from tests.test_export import load

#: A chat template in the style of tool-calling models: the tools as JSON in the system
#: turn, each call as a <tool_call> tag (arguments as an object or as JSON text), results
#: as tool turns.
TEMPLATE = (
    "{%- if tools %}<|system|>You may call these tools:\n"
    "{%- for tool in tools %}\n{{ tool | tojson }}{%- endfor %}\n{%- endif %}"
    "{%- for m in messages %}<|{{ m.role }}|>"
    "{%- if m.content %}{{ m.content }}{%- endif %}"
    "{%- if m.tool_calls %}{%- for c in m.tool_calls %}\n<tool_call>"
    '{"name": "{{ c.function.name }}", "arguments": '
    "{% if c.function.arguments is string %}{{ c.function.arguments }}"
    "{% else %}{{ c.function.arguments | tojson }}{% endif %}}</tool_call>"
    "{%- endfor %}{%- endif %}\n{%- endfor %}"
)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An improve run on the bundled sample as plain OpenAI rows (with their tools)."""
    import asyncio

    from syngen_improve.llm import DirectBackend
    from syngen_improve.testing import FakeAnthropicServer

    folder = tmp_path_factory.mktemp("openai-run")
    src = write_converted(sample_path(), folder / "in.jsonl", to_plain_openai)

    async def go() -> None:
        async with (
            FakeAnthropicServer() as server,
            DirectBackend(api_key="sk-t", base_url=server.url) as backend,
        ):
            await improve_dataset(src, folder / "out", backend=backend, progress=False)

    with pytest.warns(CacheWarning):  # data without the seven fields: a short prompt
        asyncio.run(go())
    return folder / "out"


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_export_of_an_openai_run_loads_in_datasets(
    run: Path, tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    out = tmp_path / f"{fmt}.jsonl"
    stats = export_file(run / "improved_interleaved.jsonl", out, fmt=fmt)  # type: ignore[arg-type]
    ds = load(out, tmp_path / "cache")
    assert len(ds) == stats.written > 100
    assert "tools" in ds.column_names  # the rows carry their own tools
    # The tools agree on one type; the real calls' arguments do not (newValue is a string
    # in one call, a number or a list in others), so those are JSON text where written
    assert stats.json_columns == (["arguments"] if fmt in ("sft", "kto-conversational") else [])
    tools = ds[0]["tools"]
    assert tools[0]["type"] == "function"
    assert tools[0]["function"]["parameters"]["type"] == "object"
    if fmt in ("sft", "kto-conversational"):
        turns = ds[0]["messages"] if fmt == "sft" else [*ds[0]["prompt"], *ds[0]["completion"]]
        calls = [c for m in turns for c in (m.get("tool_calls") or [])]
        assert calls
        assert isinstance(json.loads(calls[0]["function"]["arguments"]), dict)
        assert any(m["role"] == "tool" for m in turns)
        assert not any("tool_call:" in (m.get("content") or "") for m in turns)
    else:  # the string and chatml formats keep the calls as text
        assert "tool_call:" in json.dumps(ds[0].get("completion") or ds[0].get("conversations"))


def test_a_chat_template_with_tools_renders_an_sft_row(run: Path, tmp_path: Path) -> None:
    transformers = pytest.importorskip("transformers")
    tokenizers = pytest.importorskip("tokenizers")
    out = tmp_path / "sft.jsonl"
    export_file(run / "improved_examples.jsonl", out, fmt="sft")
    row = orjson.loads(out.read_bytes().splitlines()[0])
    vocab = {"[UNK]": 0, "[PAD]": 1, "[EOS]": 2}
    core = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="[UNK]"))
    core.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=core, unk_token="[UNK]", pad_token="[PAD]", eos_token="[EOS]"
    )
    tokenizer.chat_template = TEMPLATE
    text = tokenizer.apply_chat_template(row["messages"], tools=row["tools"], tokenize=False)
    calls = [c for m in row["messages"] for c in m.get("tool_calls", [])]
    for call in calls:
        function = call["function"]
        assert f'<tool_call>{{"name": "{function["name"]}", "arguments": ' in text
    rendered = [json.loads(x.split("</tool_call>")[0]) for x in text.split("<tool_call>")[1:]]
    assert [r["arguments"] for r in rendered] == [
        json.loads(c["function"]["arguments"]) for c in calls
    ]
    assert all(t["function"]["name"] in text for t in row["tools"])
    results = [m["content"] for m in row["messages"] if m["role"] == "tool"]
    assert results
    assert all(f"<|tool|>{r}" in text for r in results)
    encoded = tokenizer.apply_chat_template(row["messages"], tools=row["tools"], tokenize=True)
    ids = (
        encoded["input_ids"] if isinstance(encoded, dict | transformers.BatchEncoding) else encoded
    )
    assert len(ids) == len(tokenizer(text, add_special_tokens=False)["input_ids"]) > 10


def test_rows_that_disagree_on_a_type_get_json_text(tmp_path: Path) -> None:
    """A call's arguments whose values differ in type across rows cannot be one Arrow
    column: the export writes them as JSON text and says so."""

    def row(value: Any) -> dict[str, Any]:
        args = json.dumps({"target": value})
        return {"label": True, "messages": [
            {"role": "user", "content": "Do it"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "x", "type": "function", "function": {"name": "do_it", "arguments": args}}]},
            {"role": "tool", "tool_call_id": "x", "content": "done"},
        ]}  # fmt: skip

    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(orjson.dumps(row(v)) for v in ("a", {"b": 1})) + b"\n")
    out = tmp_path / "sft.jsonl"
    stats = export_file(src, out, fmt="sft")
    assert stats.json_columns == ["arguments"]
    args = [json.loads(x)["messages"][1]["tool_calls"][0]["function"]["arguments"]
            for x in out.read_text().splitlines()]  # fmt: skip
    assert args == ['{"target": "a"}', '{"target": {"b": 1}}']
    ds = load(out, tmp_path / "cache")
    assert len(ds) == 2
    # The same rows as text calls need no such care
    assert export_file(src, tmp_path / "t.jsonl", fmt="sft", calls="text").json_columns == []


def _declared(definitions: list[dict[str, Any]]) -> dict[str, set[str]]:
    out = {}
    for d in definitions:
        body = d.get("function", d)
        params = body.get("parameters", body.get("input_schema")) or {}
        out[body["name"]] = set((params.get("properties") or {}).keys())
    return out


@pytest.mark.parametrize("tools_format", ["openai", "anthropic"])
def test_every_argument_of_every_exported_call_is_declared(
    tmp_path: Path, tools_format: str
) -> None:
    """The real slice's run (seven-field context): the bundled schemas of 40 of the 47
    tools lack the context argument every call carries, one has no parameters at all. The
    exported definitions declare each argument the row's calls use, the same definition
    on every row, and the export says what it added."""
    from syngen_improve._conventions import iter_tool_calls
    from syngen_improve.cli import main
    from syngen_improve.dialects import FileDialect
    from syngen_improve.validate import ToolRegistry
    from tests.conftest import REAL_DATA

    folder = tmp_path / "out"
    assert main(["improve", str(REAL_DATA / "scored_sample.jsonl"), "--out", str(folder),
                 "--backend", "fake", "--no-progress"]) in (0, 1)  # fmt: skip
    kto = folder / "improved_interleaved.jsonl"
    out = tmp_path / "kto.jsonl"
    stats = export_file(kto, out, fmt="kto", tools=True, tools_format=tools_format)  # type: ignore[arg-type]
    default = ToolRegistry.default()
    lacking = {n for n, t in default.items() if "context" not in t.properties}
    assert len(lacking) >= 40
    having = set(default) - lacking
    assert not {n for n, args in stats.declared.items() if "context" in args} & having
    assert any("context" in args for args in stats.declared.values())
    dialect = FileDialect()
    seen: dict[str, Any] = {}
    calls = 0
    lines = [orjson.loads(x) for x in kto.read_bytes().splitlines()]
    exported = [orjson.loads(x) for x in out.read_bytes().splitlines()]
    for source, row in zip(lines, exported, strict=True):
        declared = _declared(row["tools"])
        for _, call in iter_tool_calls(dialect.rows(source, 0)):
            calls += 1
            assert set(call.arguments) <= declared[call.name], call.name
        for d in row["tools"]:
            name = d.get("function", d)["name"]
            assert seen.setdefault(name, d) == d  # one definition a tool, on every row
    assert calls >= 1000  # every row of the KTO file calls a tool


def test_a_chat_dialect_exports_the_conversational_format_unless_told(
    run: Path, tmp_path: Path
) -> None:
    """OpenAI rows keep their messages: ``export`` without ``--format`` and
    ``to_datasets()`` give ``kto-conversational``; the text grammar still gives ``kto``."""
    from syngen_improve import sample_path
    from syngen_improve.cli import main
    from syngen_improve.export import default_format

    kto = run / "improved_interleaved.jsonl"
    assert default_format(kto) == "kto-conversational"
    assert default_format(sample_path()) == "kto"
    out = tmp_path / "default.jsonl"
    assert main(["export", str(kto), "--out", str(out)]) == 0
    first = orjson.loads(out.read_bytes().splitlines()[0])
    assert isinstance(first["prompt"], list)
    assert first["prompt"][0]["role"] in ("system", "user")
    told = tmp_path / "told.jsonl"
    assert export_file(kto, told, fmt="kto").format == "kto"
    assert isinstance(orjson.loads(told.read_bytes().splitlines()[0])["prompt"], str)
