"""report.html: the report for people who want to look at the data.

One self-contained file (inline CSS and SVG, no script, nothing fetched) that opens from
disk: where every input line went, the issues found, before/after of a sample of improved
examples with the changes highlighted, the failures by reason with their last errors, the
KTO file's checks, quality before/after when judged, and cost, tokens and cache. Its
numbers are report.json's; the examples are read from the folder's own files.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, fields
from html import escape
from typing import Any, Final

from .._conventions import DIMENSIONS
from .._jsonl import read_records
from ..llm._pricing import cost_text
from ..outputs import Layout
from ._build import run_context
from ._model import Report, thinking_text
from ._pairs import Pair, diff_html, sample_pairs
from ._svg import bars, paired_bars
from ._warnings import shortcut_mark

__all__ = ["render_html"]

_STYLE: Final = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:1em 2em;
color:#222}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ddd}h3{font-size:1.05em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .6em;
text-align:left;vertical-align:top}th{background:#f4f4f4}td.n{text-align:right}
.chart{display:block;margin:1em 0;font-size:12px}.chart .title{font-weight:600}
.pair{border:1px solid #ccc;border-radius:6px;padding:.4em 1em;margin:1em 0}
.change td{width:50%;white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:13px}
del{background:#fdd;text-decoration:line-through}ins{background:#cfc;text-decoration:none}
.warn{background:#fff4e0;border-left:4px solid #f58518;padding:.4em 1em}
.tag{display:inline-block;background:#eef;border-radius:4px;padding:0 .4em;margin-right:.3em}
"""
#: The counts that say what became of the input lines.
_OUTCOMES: Final = ("improved", "failed", "good", "malformed", "invalid")


def _table(head: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = []
    for row in rows:
        tds = "".join(
            f'<td class="n">{v:,}</td>'
            if isinstance(v, int) and not isinstance(v, bool)
            else f"<td>{escape(str(v))}</td>"
            for v in row
        )
        body.append(f"<tr>{tds}</tr>")
    return f"<table><tr>{cells}</tr>{''.join(body)}</table>"


def _where_lines_went(report: Report) -> list[str]:
    c = report.counts
    labels = {f.name: f.metadata["label"] for f in fields(c)}
    rows = [(labels[k], getattr(c, k)) for k in _OUTCOMES if getattr(c, k)]
    pending = c.poor - c.improved - c.failed
    if pending > 0:  # an interrupted run
        rows.insert(2, ("poor, not done yet (resume the run)", pending))
    return [
        "<h2>Where every input line went</h2>",
        f"<p>{c.input:,} input lines: {c.poor:,} poor (sent to the model), "
        f"{c.good:,} good, {c.malformed + c.invalid:,} quarantined. "
        f"{c.interleaved:,} rows in the KTO file.</p>",
        bars("Input lines by outcome", rows),
        _table(("outcome", "lines"), rows),
    ]


def _issues(report: Report) -> list[str]:
    issues = {k: v for k, v in report.issues.items() if v}
    if not issues:
        return []
    rows = sorted(issues.items(), key=lambda kv: -kv[1])
    return [
        "<h2>Issues found in the poor examples</h2>",
        bars("Poor examples by issue kind", [(k.replace("_", " "), v) for k, v in rows]),
    ]


def _pair(pair: Pair) -> str:
    tags = "".join(f'<span class="tag">{escape(k.replace("_", " "))}</span>' for k in pair.issues)
    rows = []
    for change in pair.changes:
        before, after = diff_html(change.before, change.after)
        rows.append(
            f'<tr><th colspan="2">{escape(change.where)}: {escape(change.what)}</th></tr>'
            f'<tr class="change"><td class="before">{before}</td>'
            f'<td class="after">{after}</td></tr>'
        )
    head = f"<h3>Input line {pair.line} {tags}</h3>"
    table = f"<table><tr><th>before</th><th>after</th></tr>{''.join(rows)}</table>"
    return f'<div class="pair" data-line="{pair.line}">{head}{table}</div>'


def _before_after(pairs: Sequence[Pair]) -> list[str]:
    if not pairs:
        return []
    return [
        "<h2>Before and after</h2>",
        f"<p>{len(pairs)} improved examples beside their originals, a few per issue kind, "
        "in input order: every text that changed, in full, with what was removed "
        "<del>struck</del> and what was added <ins>marked</ins>.</p>",
        *(_pair(p) for p in pairs),
    ]


def _failures(layout: Layout, report: Report) -> list[str]:
    reasons = report.failed_reasons
    parts = ["<h2>Failures</h2>"]
    if not reasons:
        return [*parts, "<p>No example failed.</p>"]
    parts.append(_table(("reason", "examples"), sorted(reasons.items(), key=lambda kv: -kv[1])))
    last: dict[str, list[tuple[int, list[str]]]] = {}
    for row in read_records(layout.failed):
        group = last.setdefault(str(row.get("reason")), [])
        if len(group) < 3:
            group.append((int(row.get("_source_line") or 0), list(row.get("errors") or [])))
    for reason, rows in last.items():
        items = "".join(
            f"<li>line {line}: {escape('; '.join(errors)[:600])}</li>" for line, errors in rows
        )
        parts.append(f"<h3>{escape(reason)}</h3><ul>{items}</ul>")
    return parts


def _review(report: Report, layout: Layout) -> list[str]:
    """What the review decided, and how to review every row."""
    decided = report.review or {}
    done = (
        f"Decided so far: {decided.get('accept', 0)} accepted, {decided.get('reject', 0)} "
        f"rejected (left out of the KTO file), {decided.get('edit', 0)} edited. "
        if decided
        else ""
    )
    command = escape(f"syngen-improve review {layout.root}")
    return [
        "<h2>Review</h2>",
        f"<p>{done}Browse, search and filter every row of this folder, and accept, reject or "
        f"edit them (one by one or a filtered selection at once): <code>{command}</code> "
        "opens a local page; its decisions reach the KTO file, <code>export</code> and "
        "<code>to_datasets()</code>.</p>",
    ]


def _kto(report: Report) -> list[str]:
    il = report.interleaving
    parts = ["<h2>The KTO file</h2>"]
    if il:
        parts.append(
            _table(
                ("check", "value"),
                [
                    ("rows", il.rows),
                    ("desirable", il.desirable),
                    ("undesirable", il.undesirable),
                    ("longest run of one label", il.longest_run),
                    (f"batches of {il.batch_size} lacking a label", il.batches_lacking_a_label),
                    (f"rows within {il.prompt_gap} rows of the same prompt", il.close_prompts),
                ],
            )
        )
    shortcuts = report.label_shortcuts or {}
    features = shortcuts.get("features") or {}
    if features:
        parts.append("<h3>Label shortcuts (ROC AUC of one feature alone; 0.5 = none)</h3>")
        parts.append(
            _table(
                ("feature", "AUC", "shortcut"),
                [
                    (
                        name,
                        "-" if f.get("auc") is None else f"{f['auc']:.2f}",
                        shortcut_mark(f),
                    )
                    for name, f in features.items()
                ],
            )
        )
    return parts


def _quality(report: Report) -> list[str]:
    if report.quality_after is None:
        means = report.quality_poor_input
        rows = [
            (d, float(value))
            for d in (*DIMENSIONS, "overall_quality")
            if (value := means.get(d)) is not None
        ]
        if not rows:
            return []
        return [
            "<h2>Quality of the poor input</h2>",
            "<p>The dataset's own scores of the poor examples (run with <code>--judge"
            "</code> to measure the improvements with the same judge).</p>",
            bars("Poor input: mean score per dimension (1-5)", rows),
        ]
    before, after = report.quality_before or {}, report.quality_after
    rows3 = [(d, before.get(d), after.get(d)) for d in (*DIMENSIONS, "overall_quality")]
    return [
        "<h2>Quality before and after</h2>",
        f"<p>Measured by the same judge on {report.judged:,} improved examples and "
        "their originals.</p>",
        paired_bars("Mean score per dimension (1-5)", rows3),
    ]


def _cost(report: Report) -> list[str]:
    cache = report.cache
    rows: list[tuple[str, Any]] = [
        (f"tokens {k.replace('_', ' ')}", v) for k, v in asdict(report.tokens).items()
    ]
    if cache.read_share is not None:
        rows.append(("input served from the cache", f"{cache.read_share:.1%}"))
    if cache.status:
        why = f" ({cache.reason})" if cache.reason else ""
        rows.append(("prompt cache", f"{cache.status}{why}"))
    tool = report.answer_tool or {}
    if tool:
        rows.append(
            ("answers", "strict" if tool.get("strict") else f"not strict ({tool.get('reason')})")
        )
    thinking = thinking_text(report.thinking)
    if thinking:
        rows.append(("thinking", thinking))
    rows += [
        ("requests", report.requests.total),
        ("retried", report.requests.retried),
        ("answers from the response cache (no request, $0)", report.requests.cached),
        ("cost (USD)", cost_text(report.cost_usd).lstrip("$")),
        ("runs", report.runs),
    ]
    return ["<h2>Requests, tokens, cost</h2>", _table(("", "value"), rows)]


def render_html(report: Report, layout: Layout, pairs: Sequence[Pair] | None = None) -> str:
    """The page for the report of the folder ``layout`` (``pairs``: the before/after
    sample, taken from the folder when not given)."""
    if pairs is None:
        context = run_context(layout.read_json(layout.analysis) or {})
        pairs = sample_pairs(layout.poor, layout.improved, context=context)
    warnings = "".join(f'<p class="warn">{escape(w)}</p>' for w in report.warnings)
    state = "complete" if report.complete else "incomplete (interrupted: resume it)"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        # Nothing may be fetched: the page is whole on its own, opened from disk.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>syngen_improve report: {escape(layout.root.name)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Report: {escape(layout.root.name)}</h1>",
        f"<p>Model {escape(str(report.model))}, {state}, generated "
        f"{escape(report.generated_at)} by syngen_improve "
        f"{escape(report.version)}. The numbers are report.json's.</p>",
        warnings,
        *_where_lines_went(report),
        *_issues(report),
        *_before_after(pairs),
        *_review(report, layout),
        *_failures(layout, report),
        *_kto(report),
        *_quality(report),
        *_cost(report),
        "</body></html>",
    ]
    return "\n".join(parts)
