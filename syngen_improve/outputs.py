"""The output folder: its file names and layout, and what an earlier run left in it.

The orchestrator writes the folder; ``report``, ``merge`` and ``interleave`` read it
through this module alone, so none of them depends on the orchestrator.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import orjson

from ._decisions import REVIEW_FILE
from ._jsonl import read_records, write_jsonl_atomic
from .errors import InvalidInput

__all__ = [
    "FILES",
    "Layout",
    "Prior",
    "count_lines",
    "estimate_lines",
    "is_improvement",
    "is_transient",
    "settle_failures",
    "source_lines",
]

FILES: Final = {
    "improved": "improved_examples.jsonl",
    "poor": "poor_examples.jsonl",
    "interleaved": "improved_interleaved.jsonl",
    "failed": "failed.jsonl",
    "quarantine": "quarantine.jsonl",
    "report_json": "report.json",
    "report_md": "report.md",
    "report_html": "report.html",
}
STATE: Final = "state"


@dataclass(frozen=True)
class Layout:
    """Paths of one output folder (DESIGN.md §5)."""

    root: Path

    @property
    def improved(self) -> Path:
        """Accepted improvements (label true), and good examples with include_good."""
        return self.root / FILES["improved"]

    @property
    def poor(self) -> Path:
        """The poor originals (label false)."""
        return self.root / FILES["poor"]

    @property
    def interleaved(self) -> Path:
        """True, False, ... for KTO, rebuilt at the end of every run."""
        return self.root / FILES["interleaved"]

    @property
    def failed(self) -> Path:
        """Poor examples not improved: original, reason, last errors."""
        return self.root / FILES["failed"]

    @property
    def quarantine(self) -> Path:
        """Unreadable input lines with their line number and error."""
        return self.root / FILES["quarantine"]

    @property
    def report_json(self) -> Path:
        return self.root / FILES["report_json"]

    @property
    def report_md(self) -> Path:
        return self.root / FILES["report_md"]

    @property
    def report_html(self) -> Path:
        return self.root / FILES["report_html"]

    def data_files(self) -> dict[str, Path]:
        """The record files that carry ``_source_line``, by short name."""
        return {
            "improved": self.improved,
            "poor": self.poor,
            "failed": self.failed,
            "quarantine": self.quarantine,
        }

    @property
    def review(self) -> Path:
        """The review's decisions (``syngen-improve review``), kept across resumes."""
        return self.root / REVIEW_FILE

    @property
    def state(self) -> Path:
        """Resume state: ledger, runs, analysis, caches, batch ids."""
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

    @property
    def manifest(self) -> Path:
        """The settings the folder's results were made with."""
        return self.state / "manifest.json"

    @property
    def input_lines(self) -> Path:
        """Each input line read so far: its number and a content fingerprint."""
        return self.state / "input_lines.bin"

    @property
    def lock(self) -> Path:
        """Held by the run that writes the folder (one run per folder)."""
        return self.state / "lock"

    @property
    def shards(self) -> Path:
        """The per-shard summaries of a merged folder."""
        return self.state / "shards.json"

    @property
    def batch_state(self) -> Path:
        """Where the batch backend keeps batch ids and results."""
        return self.state / "batch"

    def owns(self, path: Path) -> bool:
        """Whether ``path`` is one of this folder's own files (an output or state)."""
        target = path.resolve()
        mine = {
            p.resolve()
            for p in (
                *self.data_files().values(),
                self.interleaved,
                self.report_json,
                self.report_md,
            )
        }
        return target in mine or self.state.resolve() in target.parents

    def has_results(self) -> bool:
        return self.ledger.exists() or any(
            p.exists() and p.stat().st_size for p in self.data_files().values()
        )

    def has_outcomes(self) -> bool:
        """Whether any example of an earlier run ended (its ledger, an improvement or a
        failure) or a batch of it was sent (it may have been paid for): a folder without
        is one whose run stopped before its first answer (a key or model the API refused),
        which a plain rerun may start afresh."""
        sent = self.batch_state.is_dir() and any(self.batch_state.iterdir())
        return sent or any(
            p.exists() and p.stat().st_size for p in (self.ledger, self.improved, self.failed)
        )

    def clear_leftovers(self) -> None:
        """Remove what a run that ended before any outcome wrote (its originals, the KTO
        file, reports and resume state), so a fresh run starts clean; the judge's cache
        (answers that were paid for) is kept."""
        for path in (
            *self.data_files().values(),
            self.interleaved,
            self.report_json,
            self.report_md,
            self.report_html,
            self.ledger,
            self.runs,
            self.analysis,
            self.manifest,
            self.input_lines,
        ):
            path.unlink(missing_ok=True)

    def read_json(self, path: Path) -> Any:
        """A state file's JSON (``None`` when absent); :class:`InvalidInput` naming the
        file when it is damaged (a crash cannot tear one: they are replaced whole)."""
        if not path.exists():
            return None
        try:
            return orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise InvalidInput(
                f"{path} is damaged (not JSON: {exc}): restore it, or remove it and resume "
                "(the run writes it anew, without the check it held)"
            ) from None


def source_lines(path: Path) -> set[int]:
    """The ``_source_line``s of the records in ``path``."""
    return {line for r in read_records(path) if isinstance(line := r.get("_source_line"), int)}


def is_improvement(record: Mapping[str, Any]) -> bool:
    """An accepted improvement (not a good example passed through with include_good):
    ``improved: true`` (folders from before 0.2 marked ``quality_scores.improved``)."""
    if record.get("improved") is True:
        return True
    scores = record.get("quality_scores")
    return isinstance(scores, Mapping) and scores.get("improved") is True


def is_transient(record: Mapping[str, Any]) -> bool:
    """A failure of the service, not of the example (a resume retries it)."""
    return record.get("transient") is True


def settle_failures(layout: Layout, *, retry_failed: bool) -> tuple[set[int], set[int]]:
    """Before a resumed run: keep in ``failed.jsonl`` only the failures it will not retry
    (the permanent ones, none with ``retry_failed``), rewriting the file atomically.
    Returns the lines retried whose request was refused as invalid (HTTP 400) taken for
    the service's fault (refused again, they are their own: see :class:`Sinks`), and the
    permanent failures retried (asked afresh, never answered from the response cache)."""
    if not layout.failed.exists():
        return set(), set()
    records = list(read_records(layout.failed))
    keep = [r for r in records if not retry_failed and not is_transient(r)]
    if len(keep) != len(records):
        write_jsonl_atomic(layout.failed, keep)
    lines = [(r, line) for r in records if isinstance(line := r.get("_source_line"), int)]
    refused = {n for r, n in lines if is_transient(r) and r.get("http_status") == 400}
    fresh = {n for r, n in lines if retry_failed and not is_transient(r)}
    return refused, fresh


class _LineSet:
    """A set of input line numbers as a bitmap, a bit a line (a million lines: 125 KB),
    so that what a resume must know of every line stays small; a line number past
    :data:`_BITMAP_LINES` (not one a run writes) is kept apart."""

    __slots__ = ("_bits", "_far")

    def __init__(self, lines: Iterable[int] = ()) -> None:
        self._bits = bytearray()
        self._far: set[int] = set()
        for line in lines:
            self.add(line)

    def add(self, line: int) -> None:
        if not 0 <= line < _BITMAP_LINES:
            self._far.add(line)
            return
        at = line >> 3
        if at >= len(self._bits):
            self._bits.extend(bytes(max(at + 1 - len(self._bits), len(self._bits))))
        self._bits[at] |= 1 << (line & 7)

    def __contains__(self, line: object) -> bool:
        if not isinstance(line, int):
            return False
        if not 0 <= line < _BITMAP_LINES:
            return line in self._far
        at = line >> 3
        return at < len(self._bits) and bool(self._bits[at] >> (line & 7) & 1)


#: Line numbers below this go in a :class:`_LineSet`'s bitmap (at most 32 MiB of it).
_BITMAP_LINES: Final = 1 << 28


def _line_set(path: Path) -> _LineSet:
    """The ``_source_line`` of every record of ``path``, as a :class:`_LineSet`."""
    return _LineSet(
        line for r in read_records(path) if isinstance(line := r.get("_source_line"), int)
    )


@dataclass
class Prior:
    """Input lines an earlier run finished (terminal record written) or wrote."""

    improved: _LineSet = field(default_factory=_LineSet)
    good: _LineSet = field(default_factory=_LineSet)
    failed: _LineSet = field(default_factory=_LineSet)
    poor: _LineSet = field(default_factory=_LineSet)
    quarantined: _LineSet = field(default_factory=_LineSet)

    def status(self, line: int) -> str | None:
        """How an earlier run finished ``line`` (``improved``, ``failed``, ``good``), or
        ``None`` when none did."""
        for status, lines in (("improved", self.improved), ("failed", self.failed)):
            if line in lines:
                return status
        return "good" if line in self.good else None

    def written(self, file: str) -> _LineSet:
        """The lines an earlier run wrote to ``file`` before improving anything
        (``quarantine``, ``improved`` for the good rows passed through, ``poor``)."""
        return {"quarantine": self.quarantined, "improved": self.good, "poor": self.poor}[file]

    @classmethod
    def scan(cls, layout: Layout) -> Prior:
        """Read the output files: they, not the ledger, are the truth (a crash can
        land between writing an output and its ledger entry)."""
        prior = cls()
        for record in read_records(layout.improved):
            line = record.get("_source_line")
            if isinstance(line, int):
                (prior.improved if is_improvement(record) else prior.good).add(line)
        prior.failed = _line_set(layout.failed)
        prior.poor = _line_set(layout.poor)
        prior.quarantined = _line_set(layout.quarantine)
        return prior


def estimate_lines(path: Path, *, sample: int = 1 << 20) -> int:
    """About how many lines ``path`` has, from its size and its first ``sample`` bytes
    (exact when the file is no larger): for a progress total, without reading a big
    input twice."""
    if not path.exists():
        return 0
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(sample)
    lines = head.count(b"\n")
    if size <= len(head):
        return lines + (bool(head) and not head.endswith(b"\n"))
    return max(1, round(size * max(lines, 1) / len(head)))


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
