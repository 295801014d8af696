"""From an improve output folder to TRL's KTOTrainer: the columns and the weights.

    python examples/kto_training.py [OUTPUT_DIR]

Exports the interleaved file in TRL's KTO format (prompt / completion / label), checks the
order a trainer will read, and computes desirable/undesirable weights so that
(desirable_weight x D) / (undesirable_weight x U) lies in TRL's recommended 1:1 to 4:3.
Training needs TRL (`pip install trl`); without it the script stops after preparing the data.
Without an argument it first runs the offline demo to have a folder to work on.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from syngen_improve.cli import main as cli
from syngen_improve.export import export_file
from syngen_improve.interleave import verify_interleaving

with tempfile.TemporaryDirectory() as tmp:
    if len(sys.argv) > 1:
        out = Path(sys.argv[1])
    else:
        out = Path(tmp) / "demo"
        cli(["demo", "--out", str(out)])  # offline, to have a folder
        print()

    kto = Path(tmp) / "kto.jsonl"
    stats = export_file(out / "improved_interleaved.jsonl", kto, fmt="kto")
    check = verify_interleaving(out / "improved_interleaved.jsonl", batch_size=8)
    weights = check.suggested_weights()
    report = json.loads((out / "report.json").read_text())
    print(f"{stats.written} KTO rows: {check.desirable} desirable, {check.undesirable} undesirable")
    print(f"longest run of one label: {check.longest_run}; "
          f"batches of 8 lacking a label: {check.batches_lacking_a_label}")  # fmt: skip
    print(f"weights: {weights} (report: {report['counts']['improved']} improved)")

    try:
        from datasets import load_dataset  # type: ignore[import-untyped]
        from trl import KTOConfig  # type: ignore[import-not-found]
    except ImportError as exc:
        print(f"\nTRL is not installed ({exc.name}): `pip install trl` to train. The data is "
              "ready: load it with datasets.load_dataset('json', data_files=...).")  # fmt: skip
        sys.exit(0)

    dataset = load_dataset("json", data_files=str(kto), split="train")
    config = KTOConfig(output_dir=str(Path(tmp) / "kto-run"), **weights)
    # TRL's KTOTrainer reads the rows in order: keep the file's order (no shuffling).
    print(f"ready for KTOTrainer(model, args={type(config).__name__}(...), "
          f"train_dataset=<{len(dataset)} rows>)")  # fmt: skip
