"""The review's decisions: one JSON line each in ``review.jsonl``, appended and never
rewritten, so the record of who decided what stays whole; the last decision about a row
is the one that holds (an ``accept`` after a ``reject`` takes it back).

A line: ``{"key": <the original's _source_key>, "decision": "accept" | "reject" | "edit",
"time": <UTC, ISO 8601>, "line": <its input line>, "note": <optional>}``, and for an edit
the edited improvement as the folder writes it (``"row"``). In memory a log holds, per row
decided, its decision and where its line starts (an edit's row is read back from there):
tens of bytes a decision, whatever the rows weigh.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import orjson

from .errors import InputNotFound, InvalidInput, UsageError

__all__ = [
    "DECISIONS",
    "REVIEW_FILE",
    "Decision",
    "DecisionKind",
    "Decisions",
    "review_of",
    "reviewed_file",
    "reviewed_lines",
    "write_reviewed",
]

DecisionKind = Literal["accept", "reject", "edit"]
#: What a person can decide about a row.
DECISIONS: Final = ("accept", "reject", "edit")
#: The log's name inside an output folder.
REVIEW_FILE: Final = "review.jsonl"


@dataclass(frozen=True, slots=True)
class Decision:
    """One decision to append: about the row whose original has ``_source_key`` ``key``;
    ``row`` (an edit only) is the edited improvement as the folder writes it."""

    key: str
    decision: DecisionKind
    line: int | None = None
    note: str | None = None
    row: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.decision not in DECISIONS:
            raise UsageError(f"'decision' must be one of {DECISIONS}, got {self.decision!r}")
        if not isinstance(self.key, str) or not self.key:
            raise UsageError(f"'key' must be a row's _source_key, got {self.key!r}")
        if (self.decision == "edit") != (self.row is not None):
            raise UsageError("an edit carries the edited row ('row'), and only an edit does")

    def encoded(self, when: float) -> bytes:
        entry: dict[str, Any] = {
            "key": self.key,
            "decision": self.decision,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when)),
        }
        if self.line is not None:
            entry["line"] = self.line
        if self.note:
            entry["note"] = self.note
        if self.row is not None:
            entry["row"] = self.row
        return orjson.dumps(entry) + b"\n"


class Decisions:
    """The decisions of one log as they stand: the last one per row. :meth:`load` reads
    a log (a missing one is empty); :meth:`append` adds to it."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._by_key: dict[str, tuple[DecisionKind, int]] = {}
        self._size = 0  # bytes of the log read so far
        self._lines = 0

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Decisions:
        decisions = cls(path)
        decisions.refresh()
        return decisions

    def refresh(self) -> None:
        """Read what was appended since the last read (another process may append)."""
        if not self.path.exists():
            return
        with open(self.path, "rb") as fh:
            fh.seek(self._size)
            offset = self._size
            for raw in fh:
                if not raw.endswith(b"\n"):
                    break  # an append still being written: read it next time
                self._lines += 1
                self._take(raw, offset)
                offset += len(raw)
        self._size = offset

    def _take(self, raw: bytes, offset: int) -> None:
        where = f"{self.path}, line {self._lines}"
        try:
            entry = orjson.loads(raw)
            key, decision = entry["key"], entry["decision"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise InvalidInput(
                f"{where}: not a decision the review writes; restore the file or remove that line"
            ) from None
        if decision not in DECISIONS or not isinstance(key, str):
            raise InvalidInput(f"{where}: unknown decision {decision!r} (one of {DECISIONS})")
        self._by_key[key] = (decision, offset)

    def append(self, decisions: Iterable[Decision]) -> int:
        """Append ``decisions`` in one write (a crash leaves none or all of them whole
        but the last, which is then skipped); how many."""
        self.refresh()
        now = time.time()
        encoded = [d.encoded(now) for d in decisions]
        if not encoded:
            return 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "ab") as fh:
            fh.write(b"".join(encoded))
            fh.flush()
            os.fsync(fh.fileno())
        self.refresh()
        return len(encoded)

    def get(self, key: str) -> DecisionKind | None:
        """The decision that holds for the row ``key``, if any."""
        found = self._by_key.get(key)
        return None if found is None else found[0]

    def edited(self, key: str) -> dict[str, Any] | None:
        """The edited row of ``key`` when its decision is an edit."""
        found = self._by_key.get(key)
        if found is None or found[0] != "edit":
            return None
        with open(self.path, "rb") as fh:
            fh.seek(found[1])
            row = orjson.loads(fh.readline()).get("row")
        return row if isinstance(row, dict) else None

    def counts(self) -> dict[str, int]:
        """Rows by the decision that holds ({accept, reject, edit})."""
        found = Counter(d for d, _ in self._by_key.values())
        return {d: found.get(d, 0) for d in DECISIONS}

    @property
    def changes_training(self) -> bool:
        """Whether a decision changes what the training files hold (a reject or an edit)."""
        return any(d != "accept" for d, _ in self._by_key.values())

    def keys(self, decision: DecisionKind | None = None) -> Iterator[str]:
        return (k for k, (d, _) in self._by_key.items() if decision in (None, d))

    def __len__(self) -> int:
        return len(self._by_key)


def review_of(
    path: str | os.PathLike[str], review: str | os.PathLike[str] | Literal[False] | None = None
) -> Decisions | None:
    """The decisions that apply to the file ``path``: ``review`` names a log; ``None``:
    the log of the output folder ``path`` is in (its ``review.jsonl``), if there is one;
    ``False``: none."""
    if review is False:
        return None
    if review is not None:
        log = Path(review)
        if not log.is_file():
            raise InputNotFound(f"review file {log} not found (--review / review=)")
        return Decisions.load(log)
    folder = Path(path).resolve().parent
    log = folder / REVIEW_FILE
    return Decisions.load(log) if (folder / "state").is_dir() and log.is_file() else None


def _desirable_key(raw: bytes) -> tuple[dict[str, Any], str] | None:
    """A line's row and its ``_source_key`` when it is a desirable row (``label`` true,
    or none: a file of improvements); ``None`` for any other line."""
    try:
        row = orjson.loads(raw) if raw.strip() else None
    except orjson.JSONDecodeError:
        return None
    if not isinstance(row, dict) or row.get("label") is False:
        return None
    key = row.get("_source_key")
    return (row, key) if isinstance(key, str) else None


def reviewed_lines(path: Path, decisions: Decisions) -> Iterator[tuple[bytes | None, bool]]:
    """The lines of the JSONL file ``path`` as the review leaves them, each with whether
    the review changed it: a desirable row whose row was rejected comes as ``None`` (left
    out), an edited one as its edit (its label kept); every other line as its bytes."""
    with open(path, "rb") as fh:
        for raw in fh:
            line = raw if raw.endswith(b"\n") else raw + b"\n"
            found = _desirable_key(raw)
            decision = None if found is None else decisions.get(found[1])
            if found is None or decision not in ("reject", "edit"):
                yield line, False
                continue
            row, key = found
            if decision == "reject":
                yield None, True
                continue
            edited = decisions.edited(key)
            if edited is None:
                yield line, False
                continue
            if "label" in row:
                edited = {**edited, "label": row["label"]}
            if edited == row:  # the file holds the edit already
                yield line, False
                continue
            yield orjson.dumps(edited) + b"\n", True


def write_reviewed(path: Path, decisions: Decisions, out: Path) -> int:
    """``path`` as the review leaves it, written to ``out``; how many rows the review
    left out or replaced (0: ``out`` holds the same lines)."""
    changed = 0
    with open(out, "wb") as fh:
        for line, edited in reviewed_lines(path, decisions):
            changed += edited
            if line is not None:
                fh.write(line)
    return changed


@contextmanager
def reviewed_file(
    path: str | os.PathLike[str],
    decisions: Decisions | None,
    spill: str | os.PathLike[str] | None = None,
) -> Iterator[Path]:
    """``path`` as ``decisions`` leave it, for the block: the file itself when they change
    none of its rows, else a reviewed copy in a temporary folder (under ``spill``),
    removed after."""
    source = Path(path)
    if decisions is None or not decisions.changes_training or not source.exists():
        yield source
        return
    with tempfile.TemporaryDirectory(prefix="syngen-review-", dir=spill) as tmp:
        copy = Path(tmp) / source.name
        yield copy if write_reviewed(source, decisions, copy) else source
