"""Shards and merge: three shards joined equal one unsharded run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syngen_improve import Record, read_jsonl, sample_path
from syngen_improve.cli import main
from syngen_improve.config import parse_shard

FILES = ("improved_examples.jsonl", "poor_examples.jsonl", "failed.jsonl", "quarantine.jsonl")


def lines(folder: Path, name: str) -> list[int]:
    path = folder / name
    return [r.data["_source_line"] for r in read_jsonl(path) if isinstance(r, Record)]


def improve(out: Path, *extra: str) -> None:
    args = ["improve", str(sample_path()), "--out", str(out), "--backend", "fake", *extra]
    assert main([*args, "--no-progress"]) == 0


def test_three_shards_merged_equal_one_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    improve(tmp_path / "whole")
    for i in (1, 2, 3):
        improve(tmp_path / f"s{i}", "--shard", f"{i}/3")
    shard_dirs = [str(tmp_path / f"s{i}") for i in (1, 2, 3)]
    assert main(["merge", *shard_dirs, "--out", str(tmp_path / "merged")]) == 0
    for name in FILES:
        merged = lines(tmp_path / "merged", name)
        assert len(merged) == len(set(merged))
        assert set(merged) == set(lines(tmp_path / "whole", name)), name
    assert set(lines(tmp_path / "s2", FILES[0])) <= set(range(2, 201, 3))
    merged_report = json.loads((tmp_path / "merged" / "report.json").read_text())
    whole_report = json.loads((tmp_path / "whole" / "report.json").read_text())
    assert merged_report["counts"] == whole_report["counts"]
    assert merged_report["issues"] == whole_report["issues"]
    assert [s["counts"]["input"] for s in merged_report["shards"]] == [67, 67, 66]
    assert "## Shards" in (tmp_path / "merged" / "report.md").read_text()


def test_overlaps_and_bad_shards_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    improve(tmp_path / "a", "--shard", "1/2")
    improve(tmp_path / "b", "--limit", "10")
    assert (
        main(["merge", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "m")]) == 2
    )
    assert "input line 1 is in both" in capsys.readouterr().err
    with pytest.raises(ValueError, match="1 <= I <= N"):
        parse_shard("4/3")
    with pytest.raises(ValueError, match="like 2/3"):
        parse_shard("two")
    assert main(["improve", str(sample_path()), "--out", str(tmp_path / "x"), "--backend", "fake",
                 "--shard", "0/3"]) == 2  # fmt: skip
