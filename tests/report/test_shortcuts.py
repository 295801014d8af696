"""The report of a run on the real slice: shortcuts named with their AUCs, warnings said."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_the_slices_output_names_result_and_length_as_shortcuts(
    shared_data: Path, tmp_path: Path
) -> None:
    out, source = tmp_path / "out", shared_data / "scored_sample.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "syngen_improve", "improve", str(source),
         "--out", str(out), "--backend", "fake", "--no-progress", "--concurrency", "32"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "report.json").read_text())
    audit = report["label_shortcuts"]
    assert audit["features"]["has_result"]["auc"] > 0.9
    assert audit["features"]["completion_length"]["auc"] > 0.8
    assert set(audit["flagged"]) == {"has_result", "completion_length"}
    length = audit["features"]["completion_length"]["auc"]
    assert f"warning: label shortcuts: completion_length (AUC {length:.2f})" in done.stderr
    assert "## Label shortcuts" in (out / "report.md").read_text()
    interleaving = report["interleaving"]
    assert interleaving["longest_run"] == 1
    assert interleaving["close_prompts"] == 0
    assert interleaving["batches_lacking_a_label"] == 0
