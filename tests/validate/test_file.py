from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from syngen_improve.validate import validate_file
from tests.helpers import call_text, make_example


def test_acceptance_on_the_real_sample(shared_data: Path) -> None:
    report = validate_file(shared_data / "scored_sample.jsonl")
    assert report.failed_lines == [804]
    assert [m.line for m in report.malformed] == [613]
    assert (report.total, report.passed, report.failed) == (899, 898, 1)
    assert report.summary() == "Validated 899 examples: 1 failed (ignoring 0 label=false)"
    assert [i.code for i in report.issues[804] if i.level == "ERROR"] == ["P302"]
    assert not report.ok


def test_strict_profile_on_the_real_sample(shared_data: Path) -> None:
    report = validate_file(shared_data / "scored_sample.jsonl", profile="strict")
    assert report.by_code["Q602"] > 0
    assert report.by_code["Q601"] > 0
    assert report.failed > 1


def test_parallel_result_equals_serial(shared_data: Path, tmp_path: Path) -> None:
    # Blank lines and a BOM make the line arithmetic across chunks non-trivial.
    src = (shared_data / "scored_sample.jsonl").read_bytes()
    data = b"\xef\xbb\xbf" + src.replace(b"\n", b"\n\n", 50) + b"\n" + src
    path = tmp_path / "big.jsonl"
    path.write_bytes(data)
    serial = validate_file(path, workers=1)
    parallel = validate_file(path, workers=3)
    assert parallel.to_dict() == serial.to_dict()
    assert parallel.issues == serial.issues
    # First copy: 900 lines + 50 blank ones; then one blank line; then the second copy.
    assert serial.failed_lines == [804 + 50, 951 + 804]
    assert [m.line for m in serial.malformed] == [613 + 50, 951 + 613]
    lines = data.split(b"\n")
    assert all(b"vaultManager_openNote" in lines[n - 1] for n in serial.failed_lines)


def test_label_false_examples_are_counted_as_ignored(tmp_path: Path) -> None:
    bad = make_example(assistant=call_text(result={}))
    bad["label"] = False
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps(bad) + "\n" + json.dumps(make_example()) + "\n")
    report = validate_file(path)
    assert (report.total, report.failed, report.ignored) == (2, 0, 1)
    assert report.ok
    assert "ignoring 1 label=false" in report.summary()


def test_text_output_groups_by_line(shared_data: Path, tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    shutil.copy(shared_data / "scored_sample.jsonl", path)
    lines = list(validate_file(path).format_text())
    assert lines[0] == "line 613: BAD "
    assert lines[2] == "line 804: FAIL"
    assert any(line.startswith("  ERROR P302") for line in lines)
    assert "Validated 899 examples: 1 failed (ignoring 0 label=false)" in lines
    assert any(line.split()[:2] == ["R402", "WARN"] for line in lines)
    verbose = list(validate_file(path).format_text(show_warnings=True))
    assert len(verbose) > len(lines)


def test_bad_arguments(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text("")
    with pytest.raises(ValueError, match="'workers' must be >= 1"):
        validate_file(path, workers=0)
    with pytest.raises(ValueError, match="'profile' must be"):
        validate_file(path, profile="x")  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError):
        validate_file(tmp_path / "missing.jsonl")
    empty = validate_file(path)
    assert (empty.total, empty.ok, empty.pass_rate) == (0, True, 1.0)


def test_a_report_of_counts_only_counts_the_same(shared_data: Path) -> None:
    """``lines=False`` (the run's report) keeps no line's issues, and counts as the full
    report does over the real slice."""
    from syngen_improve import Record, ToolRegistry, read_jsonl
    from syngen_improve.validate import ValidationReport

    full = ValidationReport(path="x", profile="strict")
    counts = ValidationReport(path="x", profile="strict", lines=False)
    schemas = ToolRegistry.default()
    for item in read_jsonl(shared_data / "scored_sample.jsonl"):
        if isinstance(item, Record):
            full.add(item, schemas)
            counts.add(item, schemas)
    assert full.failed_lines
    assert (counts.total, counts.failed, counts.by_code) == (full.total, full.failed, full.by_code)
    assert counts.failed == len(full.failed_lines)
    assert (counts.issues, counts.failed_lines) == ({}, [])
