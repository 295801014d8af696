"""The output folder's layout, and what an earlier run left in it (for resume)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import orjson

from .._jsonl import Record, read_jsonl

__all__ = ["FILES", "Layout", "Prior"]

FILES: Final = {
    "improved": "improved_examples.jsonl",
    "poor": "poor_examples.jsonl",
    "interleaved": "improved_interleaved.jsonl",
    "failed": "failed.jsonl",
    "quarantine": "quarantine.jsonl",
    "report_json": "report.json",
    "report_md": "report.md",
}
STATE: Final = "state"


@dataclass(frozen=True)
class Layout:
    """Paths of one output folder."""

    root: Path

    def __getattr__(self, name: str) -> Path:
        if name in FILES:
            return self.root / FILES[name]
        raise AttributeError(name)

    @property
    def state(self) -> Path:
        return self.root / STATE

    @property
    def ledger(self) -> Path:
        return self.state / "ledger.jsonl"

    @property
    def runs(self) -> Path:
        return self.state / "runs.jsonl"

    @property
    def analysis(self) -> Path:
        return self.state / "analysis.json"

    def has_results(self) -> bool:
        names = ("improved", "poor", "failed", "quarantine")
        return self.ledger.exists() or any(
            (self.root / FILES[n]).exists() and (self.root / FILES[n]).stat().st_size for n in names
        )

    def read_json(self, path: Path) -> Any:
        return orjson.loads(path.read_bytes()) if path.exists() else None


def _source_lines(path: Path) -> Counter[int]:
    lines: Counter[int] = Counter()
    if path.exists():
        for item in read_jsonl(path):
            if isinstance(item, Record):
                value = item.data.get("_source_line")
                if isinstance(value, int):
                    lines[value] += 1
    return lines


@dataclass
class Prior:
    """Input lines an earlier run finished (terminal record written) or wrote."""

    improved: set[int] = field(default_factory=set)
    good: set[int] = field(default_factory=set)
    failed: set[int] = field(default_factory=set)
    poor: set[int] = field(default_factory=set)
    quarantined: set[int] = field(default_factory=set)

    @property
    def finished(self) -> set[int]:
        return self.improved | self.failed | self.good

    @classmethod
    def scan(cls, layout: Layout) -> Prior:
        """Read the output files: they, not the ledger, are the truth (a crash can
        land between writing an output and its ledger entry)."""
        prior = cls()
        if layout.improved.exists():
            for item in read_jsonl(layout.improved):
                if isinstance(item, Record) and isinstance(item.data.get("_source_line"), int):
                    scores = item.data.get("quality_scores")
                    improved = isinstance(scores, dict) and scores.get("improved") is True
                    (prior.improved if improved else prior.good).add(item.data["_source_line"])
        prior.failed = set(_source_lines(layout.failed))
        prior.poor = set(_source_lines(layout.poor))
        prior.quarantined = set(_source_lines(layout.quarantine))
        return prior


def count_lines(path: Path) -> int:
    """Newline-terminated lines plus a final unterminated one (a fast byte scan)."""
    if not path.exists():
        return 0
    count = 0
    last = b"\n"
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")
