"""The review's index of a folder: one entry per input line that became a row (an
improvement with its original, a failure, a good row passed through), in input order, in
a SQLite file under ``state/`` so that paging, filtering and counting stay quick at a
million rows while memory holds one page.

An entry keeps where the row's lines start in the folder's files (its improvement, its
original, its failure) and what the filters read: the outcome, the issue kinds (from the
ledger; folders older than that record: found again in the original), the gate's
rejections, the judge's score change, the dialect, the review decision. It is built once
and built again when a file it was read from changed (size or time); decisions are kept
current as they are made.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson

from .._decisions import Decisions
from .._jsonl import read_records
from ..analyze import issue_kinds
from ..dialects import as_text_grammar, detect_dialect
from ..outputs import Layout
from ..report import run_context

__all__ = ["Filters", "Index", "remove_index"]

_FILE: Final = "review_index.sqlite3"
_DETAIL: Final = (
    "line",
    "key",
    "kind",
    "improved",
    "original",
    "failed",
    "issues",
    "reasons",
    "delta",
    "dialect",
    "decision",
)
_FORMAT: Final = 1
_SCHEMA: Final = (
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT)",
    "CREATE TABLE rows (line INTEGER PRIMARY KEY, key TEXT, kind TEXT, improved INTEGER, "
    "original INTEGER, failed INTEGER, issues TEXT, reasons TEXT, delta REAL, "
    "dialect TEXT, decision TEXT)",
    "CREATE INDEX rows_key ON rows (key)",
)


@dataclass(frozen=True)
class Filters:
    """What the page filters by (empty: everything): outcome (``improved``, ``failed``,
    ``good``), an issue kind, a rejection reason, the decision (``undecided`` too), the
    judge's score change (``up``, ``down``, ``same``), the dialect, and the input lines a
    search found."""

    kind: str = ""
    issue: str = ""
    reason: str = ""
    decision: str = ""
    delta: str = ""
    dialect: str = ""

    @classmethod
    def of(cls, query: Mapping[str, str]) -> Filters:
        return cls(**{f: str(query.get(f, "")) for f in cls.__dataclass_fields__})

    def where(self, searched: bool) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        for column, value in (("kind", self.kind), ("dialect", self.dialect)):
            if value:
                clauses.append(f"{column} = ?")
                args.append(value)
        for column, value in (("issues", self.issue), ("reasons", self.reason)):
            if value:
                clauses.append(f"instr({column}, ?) > 0")
                args.append(f",{value},")
        if self.decision == "undecided":
            clauses.append("decision IS NULL")
        elif self.decision:
            clauses.append("decision = ?")
            args.append(self.decision)
        delta = {"up": "delta > 0", "down": "delta < 0", "same": "delta = 0"}.get(self.delta)
        if delta:
            clauses.append(delta)
        if searched:
            clauses.append("line IN (SELECT line FROM found)")
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def _signature(layout: Layout) -> str:
    parts = []
    for path in (layout.improved, layout.poor, layout.failed, layout.ledger):
        st = path.stat() if path.exists() else None
        parts.append(f"{path.name}:{st.st_size}:{st.st_mtime_ns}" if st else f"{path.name}:-")
    return f"{_FORMAT}|" + "|".join(parts)


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(offset, row)`` of each JSON object line of ``path``."""
    if not path.exists():
        return
    with open(path, "rb") as fh:
        offset = 0
        for raw in fh:
            try:
                row = orjson.loads(raw) if raw.strip() else None
            except orjson.JSONDecodeError:
                row = None
            if isinstance(row, dict) and isinstance(row.get("_source_line"), int):
                yield offset, row
            offset += len(raw)


def _overall(scores: Any) -> float | None:
    if not isinstance(scores, Mapping):
        return None
    values = [v for v in scores.values() if isinstance(v, int | float) and not isinstance(v, bool)]
    return sum(values) / len(values) if values else None


class Index:
    """The index of the folder ``layout`` (see the module docstring); a context manager."""

    def __init__(self, layout: Layout, decisions: Decisions) -> None:
        self.layout = layout
        self.decisions = decisions
        self.path = layout.state / _FILE
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.total = 0
        self._searched: str | None = None

    def __enter__(self) -> Index:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.db.close()

    def open(self) -> Index:
        """Build the index unless the one on disk was read from the files as they are."""
        found = None
        with contextlib.suppress(sqlite3.DatabaseError):  # none yet, or not ours: built anew
            found = self.db.execute("SELECT value FROM meta WHERE name = 'signature'").fetchone()
        if found is None or found[0] != _signature(self.layout):
            self._build()
        self.sync_decisions()
        self.total = int(self.db.execute("SELECT COUNT(*) FROM rows").fetchone()[0])
        return self

    def _build(self) -> None:
        db = self.db
        db.execute("BEGIN")
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            db.execute(f'DROP TABLE IF EXISTS "{name}"')
        for statement in _SCHEMA:
            db.execute(statement)
        db.execute("CREATE TEMP TABLE ledger (line INTEGER PRIMARY KEY, issues TEXT, reasons TEXT)")
        db.execute(
            "CREATE TEMP TABLE orig (line INTEGER PRIMARY KEY, off INTEGER, key TEXT, "
            "dialect TEXT, issues TEXT)"
        )
        db.executemany("INSERT OR REPLACE INTO ledger VALUES (?, ?, ?)", self._ledger())
        # Folders older than the ledger's issue kinds: found again in each original.
        detect = bool(db.execute("SELECT 1 FROM ledger WHERE issues IS NULL LIMIT 1").fetchone())
        db.executemany(
            "INSERT OR REPLACE INTO orig VALUES (?, ?, ?, ?, ?)", self._originals(detect)
        )
        db.executemany(
            "INSERT OR REPLACE INTO rows (line, key, kind, improved, delta, dialect) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            self._improved(),
        )
        db.executemany(
            "INSERT OR IGNORE INTO rows (line, key, kind, failed, dialect, reasons) "
            "VALUES (?, ?, 'failed', ?, ?, ?)",
            self._failed(),
        )
        db.execute(
            "UPDATE rows SET original = (SELECT off FROM orig WHERE orig.line = rows.line), "
            "issues = COALESCE((SELECT issues FROM ledger WHERE ledger.line = rows.line), "
            "(SELECT issues FROM orig WHERE orig.line = rows.line), ''), "
            "reasons = COALESCE((SELECT reasons FROM ledger WHERE ledger.line = rows.line), "
            "reasons, ''), "
            "dialect = COALESCE((SELECT dialect FROM orig WHERE orig.line = rows.line), dialect)"
        )
        db.execute("DROP TABLE ledger")
        db.execute("DROP TABLE orig")
        db.execute("INSERT INTO meta VALUES ('signature', ?)", (_signature(self.layout),))
        db.execute("COMMIT")

    def _ledger(self) -> Iterator[tuple[int, str | None, str]]:
        for entry in read_records(self.layout.ledger):
            line = entry.get("line")
            if not isinstance(line, int):
                continue
            issues = entry.get("issues")
            kinds = ",".join(map(str, issues)) if isinstance(issues, list) else None
            reasons = ",".join(str(r) for r in entry.get("rejections") or ())
            yield line, None if kinds is None else f",{kinds},", f",{reasons},"

    def _originals(self, detect: bool) -> Iterator[tuple[int, int, str | None, str, str | None]]:
        context = run_context(self.layout.read_json(self.layout.analysis) or {})
        for offset, row in _lines(self.layout.poor):
            key = row.get("_source_key")
            kinds = None
            if detect:
                kinds = "," + ",".join(sorted(issue_kinds(as_text_grammar(row), context=context)))
                kinds += ","
            line, dialect = row["_source_line"], detect_dialect(row) or "text"
            yield line, offset, key if isinstance(key, str) else None, dialect, kinds

    def _improved(self) -> Iterator[tuple[int, str | None, str, int, float | None, str]]:
        for offset, row in _lines(self.layout.improved):
            key = row.get("_source_key")
            after = _overall(row.get("quality_scores"))
            before = _overall(row.get("original_judge_scores"))
            delta = None if after is None or before is None else round(after - before, 4)
            kind = "improved" if row.get("improved") is True else "good"
            line, dialect = row["_source_line"], detect_dialect(row) or "text"
            yield line, key if isinstance(key, str) else None, kind, offset, delta, dialect

    def _failed(self) -> Iterator[tuple[int, str | None, int, str, str]]:
        for offset, row in _lines(self.layout.failed):
            key = row.get("_source_key")
            original = row.get("original")
            dialect = (detect_dialect(original) if isinstance(original, dict) else None) or "text"
            reason = f",{row.get('reason')},"
            key = key if isinstance(key, str) else None
            yield row["_source_line"], key, offset, dialect, reason

    def sync_decisions(self, keys: list[str] | None = None) -> None:
        """The decisions column as the log says (``keys``: only those rows)."""
        self.decisions.refresh()
        chosen = list(self.decisions.keys()) if keys is None else keys
        self.db.execute("BEGIN")
        if keys is None:
            self.db.execute("UPDATE rows SET decision = NULL")
        self.db.executemany(
            "UPDATE rows SET decision = ? WHERE key = ?",
            ((self.decisions.get(k), k) for k in chosen),
        )
        self.db.execute("COMMIT")

    # -- queries -------------------------------------------------------------------

    def search(self, text: str) -> None:
        """Keep the input lines whose rows hold ``text`` (any case) for the next queries."""
        if text == self._searched:
            return
        self.db.execute("DROP TABLE IF EXISTS temp.found")
        self._searched = text or None
        if not text:
            return
        self.db.execute("CREATE TEMP TABLE found (line INTEGER PRIMARY KEY)")
        needle = text.lower().encode()
        for path in (self.layout.improved, self.layout.poor, self.layout.failed):
            self.db.executemany("INSERT OR IGNORE INTO found VALUES (?)", _matching(path, needle))

    def count(self, filters: Filters) -> int:
        where, args = filters.where(self._searched is not None)
        if not where:
            return self.total
        return int(self.db.execute(f"SELECT COUNT(*) FROM rows{where}", args).fetchone()[0])

    def page(self, filters: Filters, page: int, size: int) -> list[dict[str, Any]]:
        """The entries of page ``page`` (from 1) of ``size``, in input order."""
        where, args = filters.where(self._searched is not None)
        columns = "line, key, kind, issues, reasons, delta, dialect, decision"
        if not where:  # every line: the page starts where its first line is
            first = self.db.execute(
                "SELECT line FROM rows ORDER BY line LIMIT 1 OFFSET ?", ((page - 1) * size,)
            ).fetchone()
            if first is None:
                return []
            sql = f"SELECT {columns} FROM rows WHERE line >= ? ORDER BY line LIMIT ?"
            found = self.db.execute(sql, (first[0], size)).fetchall()
        else:
            sql = f"SELECT {columns} FROM rows{where} ORDER BY line LIMIT ? OFFSET ?"
            found = self.db.execute(sql, [*args, size, (page - 1) * size]).fetchall()
        return [_entry(r) for r in found]

    def keys(self, filters: Filters) -> dict[str, int]:
        """Every row the filters select: ``_source_key`` -> input line."""
        where, args = filters.where(self._searched is not None)
        sql = f"SELECT key, line FROM rows{where}"
        return {k: n for k, n in self.db.execute(sql, args) if k is not None}

    def offsets(self, line: int) -> dict[str, Any] | None:
        sql = f"SELECT {', '.join(_DETAIL)} FROM rows WHERE line = ?"
        row = self.db.execute(sql, (line,)).fetchone()
        if row is None:
            return None
        return dict(zip(_DETAIL, row, strict=True))

    def choices(self) -> dict[str, list[str]]:
        """The values each filter can take in this folder."""
        out: dict[str, list[str]] = {}
        for column in ("issues", "reasons"):
            seen: set[str] = set()
            for (value,) in self.db.execute(f"SELECT DISTINCT {column} FROM rows"):
                seen.update(v for v in (value or "").split(",") if v)
            out[column] = sorted(seen)
        for column in ("kind", "dialect"):
            rows = self.db.execute(f"SELECT DISTINCT {column} FROM rows WHERE {column} IS NOT NULL")
            out[column] = sorted(v for (v,) in rows)
        return out


def _entry(row: tuple[Any, ...]) -> dict[str, Any]:
    line, key, kind, issues, reasons, delta, dialect, decision = row
    return {
        "line": line,
        "key": key,
        "kind": kind,
        "issues": [v for v in (issues or "").split(",") if v],
        "reasons": [v for v in (reasons or "").split(",") if v],
        "delta": delta,
        "dialect": dialect,
        "decision": decision,
    }


def _matching(path: Path, needle: bytes) -> Iterator[tuple[int]]:
    """The ``_source_line`` of each line of ``path`` that holds ``needle`` (lower case)."""
    if not path.exists():
        return
    with open(path, "rb") as fh:
        for raw in fh:
            if needle in raw.lower():
                try:
                    line = orjson.loads(raw).get("_source_line")
                except (orjson.JSONDecodeError, AttributeError):
                    continue
                if isinstance(line, int):
                    yield (line,)


def remove_index(layout: Layout) -> None:
    """Remove the folder's review index (rebuilt when the page opens next)."""
    for suffix in ("", "-wal", "-shm"):
        Path(os.fspath(layout.state / _FILE) + suffix).unlink(missing_ok=True)
