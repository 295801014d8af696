"""Building the typed report from an output folder (where each number comes from: see
the package docstring)."""

from __future__ import annotations

import dataclasses
import os
import re
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any, Final

from .._conventions import iter_tool_calls
from .._decisions import Decisions
from .._jsonl import Record, read_jsonl, read_records
from .._version import __version__
from ..analyze import agent_of
from ..context import SEVEN_FIELDS, ContextConvention
from ..dialects import FileDialect
from ..errors import InputNotFound
from ..judge import ScoreMeans
from ..outputs import FILES, Layout, count_lines, is_improvement, is_transient
from ._model import (
    AgentCoverage,
    Cache,
    Counts,
    Coverage,
    Interleaving,
    Report,
    Requests,
    RunEntry,
    StrictValidation,
    Tokens,
    Validation,
)
from ._warnings import warnings_of

__all__ = ["TIMING_FIELDS", "build_report"]

#: Keys that change when the same folder is reported again.
TIMING_FIELDS = ("generated_at",)
_BATCH = 8


def _ledger(layout: Layout) -> tuple[Counter[int], Counter[str]]:
    attempts: Counter[int] = Counter()
    reasons: Counter[str] = Counter()
    for entry in read_records(layout.ledger):
        if entry.get("status") != "good":
            attempts[int(entry.get("attempts", 0))] += 1
            reasons.update(str(r) for r in entry.get("rejections", []))
    return attempts, reasons


def _sum_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    requests: Counter[str] = Counter()
    tokens: Counter[str] = Counter()
    for run in runs:
        requests.update({k: v for k, v in run.get("requests", {}).items() if isinstance(v, int)})
        tokens.update(run.get("tokens", {}))
    return {
        "requests": Requests(**{f.name: requests.get(f.name, 0) for f in fields(Requests)}),
        "tokens": Tokens(**{f.name: tokens.get(f.name, 0) for f in fields(Tokens)}),
        "cost_usd": _cost(runs),
        "elapsed_s": round(sum(float(r.get("elapsed_s", 0.0)) for r in runs), 3),
    }


def _cost(runs: list[dict[str, Any]]) -> float | None:
    """The runs' cost in USD, ``None`` (unknown) when a run's model had no known price."""
    costs = [r.get("cost_usd", 0.0) for r in runs]
    if any(c is None for c in costs):
        return None
    return round(sum(float(c) for c in costs), 6)


class _Improvements:
    """Quality before/after (both from the judge, over the improvements it scored on both
    sides), the dataset's own scores of the same originals beside them, tool coverage,
    and the strict validation of every desirable row: fed one row at a time."""

    def __init__(self, path: Path, context: ContextConvention) -> None:
        from ..validate import ToolRegistry, ValidationReport

        self.validation = ValidationReport(
            path=str(path), profile="strict", context=context, lines=False
        )
        self._schemas = ToolRegistry.default()
        self.before, self.after, self.dataset = ScoreMeans(), ScoreMeans(), ScoreMeans()
        self.calls: Counter[str] = Counter()

    def add(self, item: Record) -> None:
        self.validation.add(item, self._schemas)
        record = item.data
        if not is_improvement(record):
            return
        for _, call in iter_tool_calls(record):
            if call.name:
                self.calls[call.name] += 1
        scores, judged = record.get("quality_scores"), record.get("original_judge_scores")
        if (
            isinstance(scores, dict)
            and scores.get("scored_by") == "judge"
            and isinstance(judged, dict)
        ):
            self.after.add(scores)
            self.before.add(judged)
            own = record.get("original_quality_scores")
            if isinstance(own, dict):
                self.dataset.add(own)

    def quality(self) -> dict[str, Any]:
        return {
            "judged": self.after.rows,
            "before": self.before.means() if self.after.rows else None,
            "after": self.after.means() if self.after.rows else None,
            "dataset": self.dataset.means() if self.dataset.rows else None,
            "tool_calls": self.calls,
        }

    def strict_validation(self) -> StrictValidation:
        from ..validate import Level

        v = self.validation
        if not v.total:
            return StrictValidation(context=v.context.name)
        warnings = [
            (code, n) for code, n in v.by_code.most_common() if v.levels.get(code) is Level.WARN
        ]
        return StrictValidation(
            context=v.context.name,
            total=v.total,
            passed=v.passed,
            pass_rate=round(v.pass_rate, 6),
            warnings=dict(warnings[:10]),
        )


def _read_desirable(layout: Layout, improvements: _Improvements) -> None:
    dialect = FileDialect()
    for item in read_jsonl(layout.improved):
        if isinstance(item, Record):
            improvements.add(Record(item.line, dialect.rows(item.data, item.line)))


def _from_rows(
    layout: Layout, gap: int, desirable_rows: int, analysis: Mapping[str, Any]
) -> tuple[_Improvements, Interleaving | None, dict[str, Any] | None]:
    """The sections read from rows: the improvements (quality, coverage, strict
    validation), the KTO file's order and its label shortcuts (those the run's fixes
    account for marked intended). One pass over the KTO file
    when it holds every desirable row (each row decoded, its tool calls parsed, once for
    all of them); the desirable file is read only when it does not."""
    from ..audit import Auditor
    from ..interleave._verify import Verifier

    context = run_context(analysis)
    improvements = _Improvements(layout.improved, context)
    if not layout.interleaved.exists():
        _read_desirable(layout, improvements)
        return improvements, None, None
    check, auditor = Verifier(layout.interleaved, batch_size=_BATCH, prompt_gap=gap), Auditor()
    dialect = FileDialect()  # rows in the input's dialect, read as the text grammar
    for item in read_jsonl(layout.interleaved):
        check.add(item)
        if isinstance(item, Record):
            item = Record(item.line, dialect.rows(item.data, item.line))
            auditor.add(item.data)
            if item.data.get("label") is True:
                improvements.add(item)
    if improvements.validation.total != desirable_rows:
        improvements = _Improvements(layout.improved, context)  # another policy left rows out
        _read_desirable(layout, improvements)
    v = check.finish()
    interleaving = Interleaving(
        rows=v.total,
        desirable=v.desirable,
        undesirable=v.undesirable,
        first_labels=v.first_labels,
        alternating=v.alternating,
        longest_run=v.longest_run,
        batch_size=_BATCH,
        batches_lacking_a_label=v.batches_lacking_a_label,
        weighted_ratio=None if v.weighted_ratio is None else round(v.weighted_ratio, 4),
        suggested_weights=v.suggested_weights(),
        prompt_gap=gap,
        close_prompts=v.close_prompts,
    )
    shortcuts = auditor.result()
    shortcuts.explain(_asked(analysis))
    return improvements, interleaving, shortcuts.to_dict()


def _asked(analysis: Mapping[str, Any]) -> set[str]:
    """The issue kinds the run was asked to fix (found in some poor example)."""
    found: set[str] = set()
    for section in ("issues_structural", "issues_notes"):
        counts = analysis.get(section)
        if isinstance(counts, Mapping):
            found.update(str(k) for k, n in counts.items() if isinstance(n, int) and n > 0)
    return found


def _failures(layout: Layout) -> tuple[dict[str, int], int, dict[str, int]]:
    """The failures by reason, how many of them a resume retries, and the last errors of
    those (request ids left out, so the same error counts once): one read."""
    reasons: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    retryable = 0
    for record in read_records(layout.failed):
        reasons[str(record.get("reason"))] += 1
        if is_transient(record):
            retryable += 1
            last = record.get("errors") or [""]
            errors[_REQUEST_ID.sub("", str(last[-1]))[:300]] += 1
    return dict(reasons.most_common()), retryable, dict(errors.most_common(3))


_REQUEST_ID: Final = re.compile(r" \(request-id [^)]*\)")


def _cache(run: dict[str, Any], tokens: Tokens) -> Cache:
    """Prompt caching: whether the last run's shared prefix clears the model's floor (and
    why not), the tokens read from and written to the cache over all runs, and the share
    of all input tokens the cache served."""
    recorded = run.get("cache")
    check: dict[str, Any] = recorded if isinstance(recorded, dict) else {}
    total = tokens.input + tokens.cache_read + tokens.cache_creation
    status, reason = check.get("status"), check.get("reason")
    if check.get("observed") == "not_read":  # the server never read nor wrote it
        status, reason = "not_read", check.get("observed_reason")
    return Cache(
        status=status,
        reason=reason,
        observed=check.get("observed"),
        prefix_tokens=check.get("prefix_tokens"),
        floor=check.get("floor"),
        read_tokens=tokens.cache_read,
        write_tokens=tokens.cache_creation,
        read_share=round(tokens.cache_read / total, 4) if total else None,
    )


def _coverage(analysis: dict[str, Any], improved_calls: Counter[str]) -> Coverage:
    tools: dict[str, int] = analysis.get("tools", {})
    agents: dict[str, Counter[str]] = {}
    for name in sorted(set(tools) | set(improved_calls)):
        row = agents.setdefault(agent_of(name), Counter())
        row.update(tools=1, input_calls=tools.get(name, 0), improved_calls=improved_calls[name])
    return Coverage(
        tools=len(set(tools) | set(improved_calls)),
        agents={agent: AgentCoverage(**row) for agent, row in agents.items()},
    )


def run_context(analysis: Mapping[str, Any]) -> ContextConvention:
    """The context convention a folder's run used (``analysis.json``'s; folders older than
    the record: the seven fields)."""
    recorded = analysis.get("context")
    return ContextConvention.from_dict(recorded) if isinstance(recorded, dict) else SEVEN_FIELDS


def build_report(output_dir: str | os.PathLike[str]) -> Report:
    """The report of the folder as it is now."""
    layout = Layout(Path(output_dir))
    if not layout.state.is_dir():
        raise InputNotFound(f"{layout.root} is not an improve output folder (no state/)")
    analysis = layout.read_json(layout.analysis) or {}
    attempts, reasons = _ledger(layout)
    failed_reasons, retryable, retryable_errors = _failures(layout)
    runs = list(read_records(layout.runs))
    gap = int(runs[-1].get("prompt_gap", 8)) if runs else 8
    desirable_rows = count_lines(layout.improved)
    rows, interleaving, shortcuts = _from_rows(layout, gap, desirable_rows, analysis)
    improved = rows.quality()
    good_included = int(analysis.get("good_included", 0))
    improved_count = desirable_rows - good_included
    last = runs[-1] if runs else {}
    totals = _sum_runs(runs)
    report = Report(
        counts=_counts(layout, analysis, improved_count, retryable),
        issues=analysis.get("issues_structural", {}),
        issues_notes=analysis.get("issues_notes", {}),
        validation=Validation(passed=improved_count, failed=sum(reasons.values())),
        attempts={str(k): v for k, v in sorted(attempts.items())},
        rejections=dict(reasons.most_common()),
        failed_reasons=failed_reasons,
        retryable_errors=retryable_errors,
        strict_validation=rows.strict_validation(),
        interleaving=interleaving,
        label_shortcuts=shortcuts,
        judged=improved["judged"],
        quality_poor_input={
            k: None if v is None else round(v, 4)
            for k, v in (analysis.get("means_poor") or {}).items()
        },
        **totals,
        runs=len(runs),
        run_history=[_run_entry(r) for r in runs],
        interrupted=bool(last.get("interrupted", False)),
        complete=bool(analysis.get("complete", False)) and not last.get("interrupted", False),
        coverage=_coverage(analysis, improved["tool_calls"]),
        files=_files(layout),
        model=last.get("model"),
        version=__version__,
        generated_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        cache=_cache(last, totals["tokens"]),
        answer_tool=last.get("answer_tool") if isinstance(last.get("answer_tool"), dict) else None,
        thinking=last.get("thinking") if isinstance(last.get("thinking"), dict) else None,
        shards=layout.read_json(layout.shards) or None,
        quality_before=improved["before"] if improved["after"] is not None else None,
        quality_after=improved["after"],
        quality_dataset=improved["dataset"] if improved["after"] is not None else None,
        review=Decisions.load(layout.review).counts() if layout.review.exists() else None,
    )
    return dataclasses.replace(report, warnings=warnings_of(report, analysis))


def _counts(layout: Layout, analysis: Mapping[str, Any], improved: int, retryable: int) -> Counts:
    return Counts(
        input=analysis.get("input", 0),
        malformed=analysis.get("malformed", 0),
        invalid=analysis.get("invalid", 0),
        good=analysis.get("good", 0),
        poor=int(analysis.get("poor", 0)),
        improved=improved,
        failed=count_lines(layout.failed),
        retryable=retryable,
        good_included=int(analysis.get("good_included", 0)),
        poor_written=count_lines(layout.poor),
        interleaved=count_lines(layout.interleaved),
        quarantined=count_lines(layout.quarantine),
        duplicates=analysis.get("duplicates", 0),
        deduped=analysis.get("deduped", 0),
    )


def _files(layout: Layout) -> dict[str, int]:
    """The size of each output file there is (the reports aside)."""
    paths = (layout.root / name for key, name in FILES.items() if not key.startswith("report"))
    return {path.name: path.stat().st_size for path in paths if path.exists()}


def _run_entry(run: Mapping[str, Any]) -> RunEntry:
    return RunEntry(
        elapsed_s=run.get("elapsed_s"),
        interrupted=run.get("interrupted"),
        cost_usd=run.get("cost_usd"),
        requests=run.get("requests", {}).get("total", 0),
        accepted_changes=run.get("accepted_changes") or None,
    )
