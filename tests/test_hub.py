"""The Hub dataset folder: every format a config with train and test splits that
``datasets.load_dataset`` reads as the Hub would, a card written from the report, and
the review's decisions in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from syngen_improve import sample_path
from syngen_improve.cli import main
from syngen_improve.errors import OutputExists
from syngen_improve.hub import CONFIGS, write_hub_folder
from syngen_improve.review import Review


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    args = ["improve", str(sample_path()), "--out", str(out), "--backend", "fake"]
    assert main([*args, "--no-progress"]) == 0
    return out


def test_the_hub_folder_loads_every_config_with_its_splits(folder: Path, tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    hub = tmp_path / "hub"
    kto = str(folder / "improved_interleaved.jsonl")
    assert main(["export", kto, "--hub-folder", str(hub)]) == 0
    for config in CONFIGS:
        loaded = datasets.load_dataset(str(hub), config)
        assert set(loaded) == {"train", "test"}
        rows = len(loaded["train"]) + len(loaded["test"])
        expected = 120 if config == "sft" else 240
        assert rows == expected, config
        assert 0 < len(loaded["test"]) < len(loaded["train"])
    kto_rows = datasets.load_dataset(str(hub), "kto")["train"]
    assert {"prompt", "completion", "label", "tools"} <= set(kto_rows.column_names)
    card = (hub / "README.md").read_text()
    assert card.startswith("---\nconfigs:\n")
    assert "model: `claude-haiku-5-5`" in card
    assert "improved 120, failed 0" in card
    assert "label shortcuts: intended has_result" in card
    with pytest.raises(OutputExists):
        write_hub_folder(kto, hub)
    assert main(["export", kto, "--hub-folder", str(tmp_path / "x"), "--format", "kto"]) == 2


def test_the_reviews_decisions_reach_the_hub_folder(folder: Path, tmp_path: Path) -> None:
    import orjson

    lines = (folder / "improved_examples.jsonl").read_bytes().splitlines()
    improved = [orjson.loads(x) for x in lines]
    Review(folder).decide([r["_source_key"] for r in improved[:10]], "reject")
    done = write_hub_folder(folder / "improved_interleaved.jsonl", tmp_path / "hub")
    assert done.configs["sft"].written == 110
    assert done.configs["kto"].reviewed == 10
    card = (tmp_path / "hub" / "README.md").read_text()
    assert "human review: accept 0, reject 10, edit 0" in card
