"""Exports: each format loads in Hugging Face datasets with stable column types."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from syngen_improve import sample_path
from syngen_improve.errors import UsageError
from syngen_improve.export import FORMATS, ExportError, export_file, export_record
from syngen_improve.interleave import interleave_files
from tests.helpers import call_text, make_example

COLUMNS = {
    "chatml": ["conversations", "label"],
    "kto": ["prompt", "completion", "label"],
    "kto-conversational": ["prompt", "completion", "label"],
    "sft": ["messages"],
}


@pytest.fixture(scope="module")
def kto_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's two sides, interleaved: metadata of every shape, both labels."""
    from syngen_improve.cli import main

    root = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--out", str(root / "out"), "--json"]) == 0
    out = root / "interleaved.jsonl"
    interleave_files(
        root / "out" / "improved_examples.jsonl", root / "out" / "poor_examples.jsonl", out
    )
    return out


def load(path: Path, cache: Path) -> Any:
    datasets = pytest.importorskip("datasets")
    return datasets.load_dataset("json", data_files=str(path), split="train", cache_dir=str(cache))


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_loads_in_datasets(
    fmt: str, kto_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    out = tmp_path / f"{fmt}.jsonl"
    stats = export_file(kto_file, out, fmt=fmt, tools=True)  # type: ignore[arg-type]
    ds = load(out, tmp_path / "cache")
    assert ds.column_names == [*COLUMNS[fmt], "tools"]
    assert len(ds) == stats.written
    if fmt == "sft":
        assert stats.written == stats.read - stats.skipped == 120
    else:
        assert len(ds) == 240
        assert ds.features["label"].dtype == "bool"
        assert sum(ds["label"]) == 120
    # The bundled tools agree on one type: a list column of OpenAI function definitions
    assert stats.json_columns == []
    function = ds[0]["tools"][0]["function"]
    assert function["parameters"]["type"] == "object"


def test_tools_in_anthropic_form_on_request(kto_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "a.jsonl"
    export_file(kto_file, out, fmt="kto", tools=True, tools_format="anthropic")
    row = json.loads(out.read_text().splitlines()[0])
    assert set(row["tools"][0]) == {"name", "description", "input_schema"}
    with pytest.raises(UsageError, match="'tools_format' must be"):
        export_file(kto_file, tmp_path / "b.jsonl", fmt="kto", tools_format="gemini")  # type: ignore[arg-type]


def test_kto_splits_at_the_last_user_turn() -> None:
    ex = make_example(user="Show the 2024 folder", assistant=call_text(result={"ok": True}))
    ex["conversations"] += [
        {"role": "user", "content": "Now the 2023 one"},
        {"role": "assistant", "content": "Sure.\n\n" + call_text(result={"ok": True})},
    ]
    row = export_record(ex, "kto", line=3)
    assert row is not None
    assert row["prompt"].startswith("user: Show the 2024 folder\n\nassistant: ")
    # The prompt ends on a blank line: prompt + completion reads as the conversation, and
    # no word of the prompt runs into the completion (TRL needs the prompt's tokens to be a
    # prefix of the whole's)
    assert row["prompt"].endswith("user: Now the 2023 one\n\n")
    assert row["completion"].startswith("Sure.")
    conv = export_record(ex, "kto-conversational")
    assert conv is not None
    assert [m["role"] for m in conv["prompt"]] == ["user", "assistant", "user"]
    assert [m["role"] for m in conv["completion"]] == ["assistant"]
    single = export_record(make_example(user="Hi there"), "kto")
    assert single is not None
    assert single["prompt"] == "Hi there\n\n"


def test_metadata_is_dropped_and_labels_must_be_bool(tmp_path: Path) -> None:
    ex = make_example()
    ex["quality_scores"] = {"overall_quality": 2.0}
    ex["_index"] = 4
    row = export_record(ex, "chatml")
    assert row is not None
    assert set(row) == {"conversations", "label"}
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(ex) + "\n" + json.dumps({**ex, "label": "desirable"}) + "\n")
    with pytest.raises(ExportError, match="line 2: 'label' must be true or false"):
        export_file(bad, tmp_path / "o.jsonl", fmt="kto")
    assert not (tmp_path / "o.jsonl").exists()
    no_answer = {"conversations": [{"role": "user", "content": "hi"}], "label": True}
    with pytest.raises(ExportError, match="line 7: needs a user turn followed by assistant"):
        export_record(no_answer, "kto", line=7)


def test_export_rejects_unreadable_input(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="line 113: not a JSON object"):
        export_file(sample_path(), tmp_path / "o.jsonl", fmt="chatml")
    with pytest.raises(FileNotFoundError):
        export_file(tmp_path / "none.jsonl", tmp_path / "o.jsonl", fmt="chatml")
    with pytest.raises(ValueError, match="'fmt' must be one of"):
        export_file(sample_path(), tmp_path / "o.jsonl", fmt="csv")  # type: ignore[arg-type]


def test_a_split_keeps_each_improvement_with_its_original(tmp_path: Path) -> None:
    """Rows of one source (an improvement, its original, a repeated input) land on one
    side; about the asked share goes to eval; the two files hold every row once."""
    rows = []
    for n in range(300):
        key = f"{n % 250:016x}"  # 50 sources repeat: duplicated inputs share the key
        for label in (True, False):
            rows.append({**make_example(user=f"Show folder {n}"), "label": label,
                         "_source_key": key, "_source_line": n + 1})  # fmt: skip
    src = tmp_path / "kto.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    train, held = tmp_path / "train.jsonl", tmp_path / "eval.jsonl"
    stats = export_file(src, train, fmt="kto", eval_fraction=0.2, eval_out=held, split_seed=7)
    got_train = [json.loads(x) for x in train.read_text().splitlines()]
    got_eval = [json.loads(x) for x in held.read_text().splitlines()]
    assert len(got_train) + len(got_eval) == stats.written == 600
    assert stats.eval == len(got_eval)
    assert 0.12 < len(got_eval) / 600 < 0.28
    prompts_train = {r["prompt"] for r in got_train}
    keys = {}
    for row in rows:
        keys.setdefault(row["_source_key"], set()).add(row["conversations"][0]["content"])
    for prompts in keys.values():  # a source is wholly on one side
        sides = {p in prompts_train for p in prompts}
        assert len(sides) == 1
    again = tmp_path / "again.jsonl"
    export_file(src, again, fmt="kto", eval_fraction=0.2, eval_out=tmp_path / "e2.jsonl",
                split_seed=7)  # fmt: skip
    assert again.read_bytes() == train.read_bytes()  # stable
    with pytest.raises(ValueError, match="needs 'eval_out'"):
        export_file(src, tmp_path / "x.jsonl", fmt="kto", eval_fraction=0.1)
    with pytest.raises(ValueError, match=r"'eval_fraction' must be in \[0, 1\)"):
        export_file(src, tmp_path / "x.jsonl", fmt="kto", eval_fraction=1.5, eval_out=held)
