"""What ``improve_dataset`` returns."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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

    def __repr__(self) -> str:
        c = self.counts
        return (
            f"ImproveResult({str(self.output_dir)!r}: {c.improved} improved, "
            f"{c.failed} failed of {c.poor} poor; {c.malformed} malformed)"
        )
