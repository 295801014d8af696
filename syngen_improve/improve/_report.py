"""report.json and report.md, made from the output folder alone (DESIGN.md §6).

Counts come from the files themselves, the attempts and rejection reasons from the
ledger, the analysis from ``state/analysis.json`` and the requests, tokens and cost
from ``state/runs.jsonl`` (summed over resumed runs).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson

from .._jsonl import Record, read_jsonl
from .._version import __version__
from ._files import FILES, Layout, count_lines

__all__ = ["build_report", "write_report"]


def _ledger(layout: Layout) -> tuple[Counter[int], Counter[str], int]:
    attempts: Counter[int] = Counter()
    reasons: Counter[str] = Counter()
    rejected = 0
    if layout.ledger.exists():
        for item in read_jsonl(layout.ledger):
            if not isinstance(item, Record) or item.data.get("status") == "good":
                continue
            attempts[int(item.data.get("attempts", 0))] += 1
            for reason in item.data.get("rejections", []):
                reasons[str(reason)] += 1
                rejected += 1
    return attempts, reasons, rejected


def _runs(layout: Layout) -> dict[str, Any]:
    totals: dict[str, Any] = {
        "requests": Counter(),
        "tokens": Counter(),
        "cost_usd": 0.0,
        "elapsed_s": 0.0,
        "runs": 0,
        "model": None,
        "interrupted": False,
    }
    if layout.runs.exists():
        for item in read_jsonl(layout.runs):
            if not isinstance(item, Record):
                continue
            run = item.data
            totals["runs"] += 1
            totals["requests"].update(
                {k: v for k, v in run.get("requests", {}).items() if isinstance(v, int)}
            )
            totals["tokens"].update(run.get("tokens", {}))
            totals["cost_usd"] += float(run.get("cost_usd", 0.0))
            totals["elapsed_s"] += float(run.get("elapsed_s", 0.0))
            totals["model"] = run.get("model", totals["model"])
            totals["interrupted"] = bool(run.get("interrupted", False))
    return totals


def build_report(layout: Layout) -> dict[str, Any]:
    """The report of the folder as it is now."""
    analysis = layout.read_json(layout.analysis) or {}
    attempts, reasons, rejected = _ledger(layout)
    runs = _runs(layout)
    improved_lines = count_lines(layout.improved)
    good_included = analysis.get("good_included", 0)
    improved = improved_lines - good_included
    failed = count_lines(layout.failed)
    requests = runs["requests"]
    tokens = runs["tokens"]
    files = {
        name: layout.root.joinpath(name).stat().st_size
        for key, name in FILES.items()
        if layout.root.joinpath(name).exists() and not key.startswith("report")
    }
    return {
        "counts": {
            "input": analysis.get("input", 0),
            "malformed": analysis.get("malformed", 0),
            "good": analysis.get("good", 0),
            "poor": analysis.get("poor", 0),
            "improved": improved,
            "failed": failed,
            "good_included": good_included,
            "poor_written": count_lines(layout.poor),
            "interleaved": count_lines(layout.interleaved),
            "quarantined": count_lines(layout.quarantine),
        },
        "issues": analysis.get("issues_structural", {}),
        "issues_notes": analysis.get("issues_notes", {}),
        "validation": {"passed": improved, "failed": rejected},
        "attempts": {str(k): v for k, v in sorted(attempts.items())},
        "rejections": dict(reasons.most_common()),
        "requests": {
            "total": requests.get("total", 0),
            "retried": requests.get("retried", 0),
            "rate_limited": requests.get("rate_limited", 0),
            "timeouts": requests.get("timeouts", 0),
            "failed": requests.get("failed", 0),
        },
        "tokens": {
            k: tokens.get(k, 0) for k in ("input", "output", "cache_read", "cache_creation")
        },
        "cost_usd": round(runs["cost_usd"], 6),
        "elapsed_s": round(runs["elapsed_s"], 3),
        "runs": runs["runs"],
        "interrupted": runs["interrupted"],
        "complete": bool(analysis.get("complete", False)) and not runs["interrupted"],
        "files": files,
        "model": runs["model"],
        "version": __version__,
    }


def _table(rows: list[tuple[str, Any]]) -> str:
    lines = ["| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    return "\n".join(lines)


def render_markdown(report: dict[str, Any]) -> str:
    """report.md: the same numbers as report.json, for people."""
    c = report["counts"]
    status = "complete" if report["complete"] else "incomplete (interrupted: rerun to resume)"
    parts = [
        "# Dataset improvement report",
        f"Run {status}; model `{report['model']}`, syngen_improve {report['version']}.",
        "## Summary",
        _table([(k, v) for k, v in c.items()]),
        "## Issues found in the poor examples (structural detectors)",
        _table(sorted(report["issues"].items(), key=lambda kv: -kv[1])),
        "## Issues named in the judge's notes",
        _table(sorted(report["issues_notes"].items(), key=lambda kv: -kv[1])),
        "## Acceptance gate",
        _table(
            [
                ("answers accepted", report["validation"]["passed"]),
                ("answers rejected", report["validation"]["failed"]),
            ]
            + [(f"rejected: {k}", v) for k, v in report["rejections"].items()]
            + [(f"examples done in {k} attempt(s)", v) for k, v in report["attempts"].items()]
        ),
        "## Requests, tokens, cost",
        _table(
            [(f"requests {k}", v) for k, v in report["requests"].items()]
            + [(f"tokens {k}", v) for k, v in report["tokens"].items()]
            + [
                ("cost (USD)", f"{report['cost_usd']:.6f}"),
                ("elapsed (s)", report["elapsed_s"]),
                ("runs (resumes + 1)", report["runs"]),
            ]
        ),
        "## Files",
        _table([(f"`{k}`", f"{v:,} bytes") for k, v in report["files"].items()]),
    ]
    return "\n\n".join(parts) + "\n"


def write_report(layout: Layout) -> dict[str, Any]:
    """Write report.json and report.md (each replaced whole) and return the report."""
    report = build_report(layout)
    for path, data in (
        (layout.report_json, orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n"),
        (layout.report_md, render_markdown(report).encode()),
    ):
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return report
