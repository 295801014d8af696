"""The report: measured quality, rebuilt from the folder, markdown equal to JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from syngen_improve import improve_dataset, sample_path
from syngen_improve.cli import main
from syngen_improve.report import TIMING_FIELDS, build_report
from syngen_improve.testing import FakeBackend


def md_rows(md: str, section: str) -> dict[str, list[str]]:
    body = md.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in body.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("|") and not set(line) <= {"|", "-"}:
            rows[cells[0]] = cells[1:]
    return rows


def test_judged_run_measures_quality_before_and_after(judged: Path) -> None:
    report = json.loads((judged / "report.json").read_text())
    before, after = report["quality_before"], report["quality_after"]
    assert report["judged"] == 120
    assert set(before) == set(after) == {
        "sessionMemory_quality", "toolContext_quality", "goal_coherence",
        "response_realism", "prompt_naturalness", "overall_quality",
    }  # fmt: skip
    assert after["overall_quality"] > before["overall_quality"]
    # One improve request and two judge requests each: the improvement and its original,
    # both by the same judge (sent, or read from the response cache, which other
    # fixtures of the session share); the dataset's own scores are reported apart.
    assert report["requests"]["total"] + report["requests"]["cached"] == 360
    assert set(report["quality_dataset"]) == set(before)
    assert report["quality_dataset"] != before
    rows = md_rows((judged / "report.md").read_text(), "Quality before and after")
    for dim in before:
        assert rows[dim][:2] == [f"{before[dim]:.2f}", f"{after[dim]:.2f}"]
    assert (judged / "quality.png").stat().st_size > 1000
    assert "![quality before and after](quality.png)" in (judged / "report.md").read_text()


def test_markdown_numbers_equal_json(judged: Path) -> None:
    report = json.loads((judged / "report.json").read_text())
    md = (judged / "report.md").read_text()
    from dataclasses import fields

    from syngen_improve.report import Counts

    summary = md_rows(md, "Summary")
    labels = {f.name: f.metadata["label"] for f in fields(Counts)}
    assert set(report["counts"]) == set(labels)
    for key, value in report["counts"].items():
        assert labels[key]  # every count in words, no raw key
        assert summary[labels[key]] == [str(value)]
    interleaving = md_rows(md, "Interleaving (as a trainer reads it)")
    assert interleaving["longest run"] == [str(report["interleaving"]["longest_run"])]
    analysis = md_rows(md, "Analysis")
    for kind, count in report["issues"].items():
        assert analysis[kind][0] == str(count)
    costs = md_rows(md, "Requests, tokens, cost")
    assert costs["requests total"] == [str(report["requests"]["total"])]
    assert re.search(r"\d+ of 120 pass", md)


def test_report_command_rebuilds_the_same_report(
    judged: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = json.loads((judged / "report.json").read_text())
    (judged / "report.json").unlink()
    (judged / "report.md").unlink()
    assert main(["report", str(judged), "--json"]) == 0
    rebuilt = json.loads(capsys.readouterr().out)

    def strip(r: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in r.items() if k not in TIMING_FIELDS}

    assert strip(rebuilt) == strip(original)
    assert (judged / "report.md").exists()
    assert main(["report", str(judged.parent / "nowhere")]) == 2


async def test_unjudged_report_says_so_and_covers_everything(tmp_path: Path) -> None:
    async with FakeBackend() as backend:
        await improve_dataset(sample_path(), tmp_path, backend=backend, progress=False)
    report = build_report(tmp_path)
    assert "quality_after" not in report.to_dict()
    assert "quality_after" not in json.loads((tmp_path / "report.json").read_text())
    assert report.strict_validation.passed == report.strict_validation.total == 120
    assert report.interleaving is not None
    assert report.interleaving.first_labels == [True, False] * 10
    assert report.coverage.tools >= 20
    assert set(report.coverage.agents) >= {"contentManager", "vaultManager"}
    md = (tmp_path / "report.md").read_text()
    assert "Not judged" in md


def test_row_sections_do_not_depend_on_what_the_kto_file_holds(
    judged: Path, tmp_path: Path
) -> None:
    """The report reads the improvements from the KTO file in one pass when it holds them
    all; with rows missing (or no KTO file at all) it reads the desirable file, and the
    improvements' figures stay the same."""
    import shutil

    full = build_report(judged)
    copy = tmp_path / "copy"
    shutil.copytree(judged, copy)
    interleaved = copy / "improved_interleaved.jsonl"
    rows = interleaved.read_text().splitlines(keepends=True)
    interleaved.write_text("".join(rows[: len(rows) // 3]))  # a third of the rows
    part = build_report(copy)
    for key in ("strict_validation", "quality_before", "quality_after", "coverage", "judged"):
        assert getattr(part, key) == getattr(full, key), key
    assert part.interleaving is not None
    assert part.interleaving.rows == len(rows) // 3
    interleaved.unlink()
    none = build_report(copy)
    assert none.interleaving is None
    assert none.label_shortcuts is None
    assert none.strict_validation == full.strict_validation
    assert full.strict_validation.total == full.counts.improved


def test_report_json_reads_back_into_the_same_typed_report(judged: Path) -> None:
    """report.json is the typed report's dump: read back, it gives the same keys and values
    (nothing the renderers show lives outside the model)."""
    from dataclasses import fields

    from syngen_improve.report import Report

    written = json.loads((judged / "report.json").read_text())
    assert Report.from_dict(written).to_dict() == written
    assert set(written) <= {f.name for f in fields(Report)}
