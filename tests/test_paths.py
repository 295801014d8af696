"""No command writes over its own input: each is refused before a byte is written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from syngen_improve import sample_path
from syngen_improve.cli import main
from syngen_improve.errors import UsageError
from syngen_improve.export import export_file
from syngen_improve.interleave import interleave_files
from syngen_improve.judge import judge_dataset


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data.jsonl"
    shutil.copy(sample_path(), path)
    return path


def test_export_over_its_input(data: Path) -> None:
    before = data.read_bytes()
    with pytest.raises(UsageError, match="is also an input"):
        export_file(data, data, fmt="sft")
    assert data.read_bytes() == before


def test_interleave_over_either_input(data: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.jsonl"
    shutil.copy(data, other)
    before = data.read_bytes()
    for out in (data, other):
        with pytest.raises(UsageError, match="is also an input"):
            interleave_files(data, other, out)
    assert data.read_bytes() == other.read_bytes() == before


async def test_judge_over_its_input_or_with_its_cache_on_it(data: Path, tmp_path: Path) -> None:
    before = data.read_bytes()
    with pytest.raises(UsageError, match="is also an input"):
        await judge_dataset(data, data, progress=False)
    with pytest.raises(UsageError, match="keeps its answers in the response cache"):
        await judge_dataset(data, tmp_path / "scored.jsonl", cache=data, progress=False)
    assert data.read_bytes() == before


def test_the_cli_says_so_with_exit_2(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["judge", str(data), "--out", str(data), "--backend", "fake"]) == 2
    assert "is also an input" in capsys.readouterr().err
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        (folder / "state").mkdir(parents=True)
    assert main(["merge", str(a), str(b), "--out", str(a)]) == 2
    assert "is also one of the folders to merge" in capsys.readouterr().err
