"""Validating a whole JSONL file, optionally on several cores."""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Any

from .._input import check_input
from .._jsonl import Malformed, Record, _line_item, read_jsonl
from ..context._convention import SEVEN_FIELDS, ContextConvention, resolve_convention
from ..context._detect import detect_file_convention
from ..dialects import Dialect, FileDialect, check_dialect
from ..errors import UsageError
from ._rules import (
    RULES,
    Issue,
    Level,
    Profile,
    check_profile,
    example_fails,
    validate_example,
)
from ._schemas import ToolRegistry

__all__ = ["ValidationReport", "validate_file"]

# Below this size one process is faster than starting workers.
_PARALLEL_MIN_BYTES = 4 * 1024 * 1024


@dataclass
class ValidationReport:
    """The outcome of :func:`validate_file`.

    ``issues`` maps each line with at least one issue to its issues. ``ignored``
    counts label=false examples that pass only because their content errors are
    tolerated. ``context`` is the context convention the file was validated with.
    ``lines=False`` keeps counts only (no ``issues``, no ``failed_lines``): memory that
    does not grow with the file, for the report of a run.
    """

    path: str
    profile: Profile
    context: ContextConvention = SEVEN_FIELDS
    total: int = 0
    failed_lines: list[int] = field(default_factory=list)
    ignored: int = 0
    malformed: list[Malformed] = field(default_factory=list)
    by_code: Counter[str] = field(default_factory=Counter)
    levels: dict[str, Level] = field(default_factory=dict)
    issues: dict[int, list[Issue]] = field(default_factory=dict)
    lines: bool = True
    failed: int = 0

    @property
    def passed(self) -> int:
        return self.total - self.failed

    @property
    def pass_rate(self) -> float:
        return self.passed / self.total if self.total else 1.0

    @property
    def ok(self) -> bool:
        """True when every example passed and no line was malformed."""
        return not self.failed and not self.malformed

    def summary(self) -> str:
        return (
            f"Validated {self.total} examples: {self.failed} failed "
            f"(ignoring {self.ignored} label=false)"
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form printed by ``syngen-improve validate --json``."""
        return {
            "path": self.path,
            "profile": self.profile,
            "context": self.context.name,
            "total": self.total,
            "passed": self.passed,
            "failed": self.failed,
            "pass_rate": round(self.pass_rate, 6),
            "ignored_label_false": self.ignored,
            "failed_lines": list(self.failed_lines),
            "malformed": [{"line": m.line, "error": m.error} for m in self.malformed],
            "by_code": dict(sorted(self.by_code.items())),
        }

    def format_text(self, *, show_warnings: bool = False) -> Iterator[str]:
        """Human output: issues grouped by line (failing lines always, lines with
        only warnings when ``show_warnings``), then the summary and counts per code."""
        failing = set(self.failed_lines)
        events: list[tuple[int, str]] = [
            (m.line, f"  malformed: {m.error}") for m in self.malformed
        ]
        for line, issues in self.issues.items():
            if line in failing or show_warnings:
                events += [(line, f"  {_issue_text(i)}") for i in issues]
        last = None
        for line, text in sorted(events, key=lambda e: e[0]):
            if line != last:
                mark = (
                    "FAIL"
                    if line in failing
                    else ("BAD " if text.startswith("  malformed") else "ok  ")
                )
                yield f"line {line}: {mark}"
                last = line
            yield text
        yield self.summary()
        for code, count in sorted(self.by_code.items()):
            level = self.levels.get(code, RULES[code].level)
            yield f"  {code} {level:<5} {RULES[code].name:<28} {count}"

    def add(self, item: Record | Malformed, schemas: ToolRegistry) -> None:
        """Validate one more line with the report's profile (a file is these, in order)."""
        if isinstance(item, Malformed):
            self.malformed.append(item)
            return
        self.total += 1
        issues = validate_example(
            item.data, profile=self.profile, schemas=schemas, line=item.line, context=self.context
        )
        if not issues:
            return
        if self.lines:
            self.issues[item.line] = issues
        for i in issues:
            self.by_code[i.code] += 1
            self.levels[i.code] = i.level
        if example_fails(item.data, issues):
            self.failed += 1
            if self.lines:
                self.failed_lines.append(item.line)
        elif item.data.get("label") is False and any(i.level is Level.ERROR for i in issues):
            self.ignored += 1

    def _absorb(self, other: ValidationReport, offset: int) -> None:
        """Add a report of a later part of the file whose line numbers start at 1."""

        self.total += other.total
        self.ignored += other.ignored
        self.failed += other.failed
        self.failed_lines += [n + offset for n in other.failed_lines]
        self.malformed += [Malformed(m.line + offset, m.error, m.raw) for m in other.malformed]
        self.by_code.update(other.by_code)
        self.levels.update(other.levels)
        for n, issues in other.issues.items():
            self.issues[n + offset] = [replace(i, line=n + offset) for i in issues]


def _issue_text(issue: Issue) -> str:
    where = issue.location(with_line=False)
    return f"{issue.level} {issue.code} {issue.message}{f' ({where})' if where else ''}"


def _validate_stream(
    items: Iterable[Record | Malformed],
    path: str,
    profile: Profile,
    schemas: ToolRegistry,
    forced: Dialect | None,
    context: ContextConvention,
) -> ValidationReport:
    report = ValidationReport(path=path, profile=profile, context=context)
    dialect = FileDialect(forced)  # any dialect is validated as the text grammar it reads as
    for item in items:
        if isinstance(item, Record):
            item = Record(item.line, dialect.rows(item.data, item.line))
        report.add(item, schemas)
    return report


class _Range:
    """The lines that start in [start, end) of a file, numbered from 1 within the range;
    ``lines`` counts them (blank ones included) once iterated."""

    def __init__(self, path: str, start: int, end: int) -> None:
        self.path, self.start, self.end = path, start, end
        self.lines = 0

    def __iter__(self) -> Iterator[Record | Malformed]:
        with open(self.path, "rb") as fh:
            fh.seek(self.start)
            pos = self.start
            while pos < self.end:
                raw = fh.readline()
                if not raw:
                    break
                pos += len(raw)
                self.lines += 1
                item = _line_item(self.lines, raw, first=pos == len(raw))
                if item is not None:
                    yield item


def _chunk_worker(
    path: str,
    start: int,
    end: int,
    profile: Profile,
    schemas: ToolRegistry,
    dialect: Dialect | None,
    context: ContextConvention,
) -> tuple[int, ValidationReport]:
    lines = _Range(path, start, end)
    report = _validate_stream(lines, path, profile, schemas, dialect, context)
    return lines.lines, report


def _split(path: str, size: int, parts: int) -> list[tuple[int, int]]:
    """Byte ranges of about equal size, each starting at the beginning of a line."""
    bounds = [0]
    with open(path, "rb") as fh:
        for k in range(1, parts):
            fh.seek(max(size * k // parts, bounds[-1]))
            fh.readline()
            bounds.append(min(fh.tell(), size))
    bounds.append(size)
    return [(a, b) for a, b in pairwise(bounds) if b > a]


def validate_file(
    path: str | os.PathLike[str],
    *,
    profile: Profile = "compatible",
    schemas: ToolRegistry | None = None,
    workers: int | None = None,
    dialect: Dialect | None = None,
    context: ContextConvention | str | os.PathLike[str] | None = None,
) -> ValidationReport:
    """Validate every line of a JSONL file; malformed lines are reported, never fatal.

    ``workers`` processes share a large file (default: the number of CPUs for
    files over 4 MiB, else 1). Line numbers in the report are the file's own. Rows of
    any dialect are validated as the text grammar they read as; ``dialect`` forces one
    (default: from the first row). ``context`` is the context convention (a
    :class:`~syngen_improve.context.ContextConvention`, ``"context7"``, ``"none"`` or a
    convention file; default: detected from the file's first rows).
    """
    check_profile(profile)
    check_dialect(dialect)
    if workers is not None and workers < 1:
        raise UsageError(f"'workers' must be >= 1, got {workers}")
    registry = schemas if schemas is not None else ToolRegistry.default()
    spath = os.fspath(check_input(path))
    size = os.path.getsize(spath)
    convention = resolve_convention(context) or detect_file_convention(spath, dialect)
    if workers is None:
        workers = (os.cpu_count() or 1) if size >= _PARALLEL_MIN_BYTES else 1

    if workers == 1:
        return _validate_stream(read_jsonl(spath), spath, profile, registry, dialect, convention)
    report = ValidationReport(path=spath, profile=profile, context=convention)
    ranges = _split(spath, size, workers)
    # spawn, not fork: forking a process that runs threads (an event loop's executor,
    # a notebook kernel) can deadlock, and Python 3.12+ warns about it.
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=len(ranges), mp_context=spawn) as pool:
        futures = [
            pool.submit(_chunk_worker, spath, a, b, profile, registry, dialect, convention)
            for a, b in ranges
        ]
        offset = 0
        for fut in futures:
            lines, part = fut.result()
            report._absorb(part, offset)
            offset += lines
    return report
