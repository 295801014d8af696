"""What ``improve_dataset`` returns."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._datasets import as_dataset
from ..export import ExportFormat, export_file
from ..outputs import Layout
from ..report import Counts, Report

__all__ = ["ImproveResult"]


@dataclass(frozen=True)
class ImproveResult:
    """A run's output folder and its report (report.json's content, typed)."""

    output_dir: Path
    report: Report

    @property
    def layout(self) -> Layout:
        """The paths of the output folder's files."""
        return Layout(self.output_dir)

    @property
    def counts(self) -> Counts:
        return self.report.counts

    @property
    def ok(self) -> bool:
        """True when the run completed and no example failed."""
        return self.report.complete and self.counts.failed == 0

    def to_datasets(self, fmt: ExportFormat | None = None, **options: Any) -> Any:
        """The run's output as a Hugging Face ``datasets.Dataset`` in a training format
        (by default ``kto``, or ``kto-conversational`` for a chat dialect: the interleaved
        file's order; ``sft`` keeps the improvements; ``options`` as
        :func:`~syngen_improve.export.export_file` takes them). Needs the ``datasets``
        package (the ``datasets`` extra); nothing is written to the folder."""
        with tempfile.TemporaryDirectory(prefix="syngen-export-") as tmp:
            out = Path(tmp) / f"{fmt or 'export'}.jsonl"
            export_file(self.layout.interleaved, out, fmt=fmt, **options)
            return as_dataset(out)

    def push_to_hub(self, repo_id: str, *, private: bool = False, token: str | None = None) -> str:
        """Publish the run's output as the Hub dataset ``repo_id``: every format a config,
        train and test splits, a card from the report (:mod:`syngen_improve.hub`); the
        commit's URL. Needs ``huggingface_hub`` (the ``hub`` extra)."""
        from ..hub import push_to_hub, write_hub_folder

        with tempfile.TemporaryDirectory(prefix="syngen-hub-") as tmp:
            done = write_hub_folder(self.layout.interleaved, Path(tmp) / "hub")
            return push_to_hub(done.path, repo_id, private=private, token=token)

    def __repr__(self) -> str:
        c = self.counts
        return (
            f"ImproveResult({str(self.output_dir)!r}: {c.improved} improved, "
            f"{c.failed} failed of {c.poor} poor; {c.malformed} malformed)"
        )
