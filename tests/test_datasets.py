"""The Dataset bridge: a run's output, or an exported file, as a ``datasets.Dataset``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from syngen_improve import ImproveResult, improve_dataset_sync, sample_path
from syngen_improve.errors import UsageError
from syngen_improve.export import export_file


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> ImproveResult:
    out = tmp_path_factory.mktemp("bridge") / "out"
    return improve_dataset_sync(sample_path(), out, backend="fake", progress=False)


def test_a_run_becomes_a_dataset_in_the_files_order(run: ImproveResult, tmp_path: Path) -> None:
    folder = run.output_dir
    before = sorted(p.name for p in folder.iterdir())
    kto = run.to_datasets()
    assert len(kto) == 240
    assert {"prompt", "completion", "label"} <= set(kto.column_names)
    assert kto["label"][:6] == [True, False, True, False, True, False]  # the interleaved order
    sft = run.to_datasets("sft")
    assert len(sft) == 120
    assert sft[0]["messages"][0]["role"] == "user"
    assert sorted(p.name for p in folder.iterdir()) == before  # nothing written to the folder


def test_export_file_can_hand_back_the_dataset(run: ImproveResult, tmp_path: Path) -> None:
    out = tmp_path / "chatml.jsonl"
    folder = run.output_dir
    ds = export_file(folder / "improved_interleaved.jsonl", out, fmt="chatml", as_dataset=True)
    assert len(ds) == len(out.read_text().splitlines()) == 240
    assert ds.column_names == ["conversations", "label"]


def test_without_the_package_the_error_says_what_to_install(
    run: ImproveResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(UsageError, match=r"pip install 'syngen_improve\[datasets\]'"):
        run.to_datasets()
