"""report.json and report.md, made from an output folder alone (DESIGN.md §6).

Every number comes from the folder: counts from the files themselves, attempts and
rejection reasons from the ledger, the analysis from ``state/analysis.json``, requests,
tokens and cost from ``state/runs.jsonl`` (one line per run: resumes add runs), quality
before/after from the improved records (``quality_scores`` and, when judged,
``quality_scores.after``), validation by re-validating the improved file, and the
interleaving by reading the interleaved file as a trainer would. ``report.md`` is
rendered from the same dict, so its numbers are report.json's. ``syngen-improve report
DIR`` rebuilds both.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from ._jsonl import read_records, replace_bytes
from ._model import DIMENSIONS, iter_tool_calls
from ._version import __version__
from .analyze import agent_of
from .errors import InputNotFound
from .improve._files import FILES, Layout, count_lines, is_improvement
from .judge import mean_scores

__all__ = ["TIMING_FIELDS", "build_report", "render_markdown", "write_report"]

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
        "requests": {k: requests.get(k, 0) for k in
                     ("total", "retried", "rate_limited", "timeouts", "failed")},
        "tokens": {k: tokens.get(k, 0) for k in
                   ("input", "output", "cache_read", "cache_creation")},
        "cost_usd": round(sum(float(r.get("cost_usd", 0.0)) for r in runs), 6),
        "elapsed_s": round(sum(float(r.get("elapsed_s", 0.0)) for r in runs), 3),
    }  # fmt: skip


def _improved(layout: Layout) -> dict[str, Any]:
    """Quality before/after and tool coverage, from the improved records."""
    before: list[dict[str, Any]] = []
    after: list[dict[str, Any]] = []
    calls: Counter[str] = Counter()
    for record in read_records(layout.improved):
        if not is_improvement(record):
            continue
        for _, call in iter_tool_calls(record):
            if call.name:
                calls[call.name] += 1
        scores = record["quality_scores"]
        judged = scores.get("after")
        if isinstance(judged, dict):
            after.append(judged)
            before.append(scores)
    return {
        "judged": len(after),
        "before": mean_scores(before) if after else None,
        "after": mean_scores(after) if after else None,
        "tool_calls": calls,
    }


def _failed_reasons(layout: Layout) -> dict[str, int]:
    reasons = Counter(str(r.get("reason")) for r in read_records(layout.failed))
    return dict(reasons.most_common())


def _validation(layout: Layout) -> dict[str, Any]:
    from .validate import Level, validate_file

    if not layout.improved.exists() or not layout.improved.stat().st_size:
        return {"profile": "strict", "total": 0, "passed": 0, "pass_rate": None, "warnings": {}}
    report = validate_file(layout.improved, profile="strict", workers=1)
    warnings = {
        code: n for code, n in report.by_code.most_common() if report.levels.get(code) is Level.WARN
    }
    return {
        "profile": "strict",
        "total": report.total,
        "passed": report.passed,
        "pass_rate": round(report.pass_rate, 6),
        "warnings": dict(list(warnings.items())[:10]),
    }


def _interleaving(layout: Layout) -> dict[str, Any] | None:
    from .interleave import verify_interleaving

    if not layout.interleaved.exists():
        return None
    v = verify_interleaving(layout.interleaved, batch_size=_BATCH)
    return {
        "rows": v.total,
        "desirable": v.desirable,
        "undesirable": v.undesirable,
        "first_labels": v.first_labels,
        "alternating": v.alternating,
        "longest_run": v.longest_run,
        "batch_size": _BATCH,
        "batches_lacking_a_label": v.batches_lacking_a_label,
        "weighted_ratio": None if v.weighted_ratio is None else round(v.weighted_ratio, 4),
        "suggested_weights": v.suggested_weights(),
    }


def _coverage(analysis: dict[str, Any], improved_calls: Counter[str]) -> dict[str, Any]:
    tools: dict[str, int] = analysis.get("tools", {})
    agents: dict[str, dict[str, int]] = {}
    for name in sorted(set(tools) | set(improved_calls)):
        row = agents.setdefault(agent_of(name), {"tools": 0, "input_calls": 0, "improved_calls": 0})
        row["tools"] += 1
        row["input_calls"] += tools.get(name, 0)
        row["improved_calls"] += improved_calls.get(name, 0)
    return {"tools": len(set(tools) | set(improved_calls)), "agents": agents}


def build_report(output_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The report of the folder as it is now."""
    layout = Layout(Path(output_dir))
    if not layout.state.is_dir():
        raise InputNotFound(f"{layout.root} is not an improve output folder (no state/)")
    analysis = layout.read_json(layout.analysis) or {}
    attempts, reasons = _ledger(layout)
    runs = list(read_records(layout.runs))
    improved = _improved(layout)
    good_included = int(analysis.get("good_included", 0))
    improved_count = count_lines(layout.improved) - good_included
    poor = int(analysis.get("poor", 0))
    files = {
        name: layout.root.joinpath(name).stat().st_size
        for key, name in FILES.items()
        if layout.root.joinpath(name).exists() and not key.startswith("report")
    }
    last = runs[-1] if runs else {}
    report: dict[str, Any] = {
        "counts": {
            "input": analysis.get("input", 0),
            "malformed": analysis.get("malformed", 0),
            "good": analysis.get("good", 0),
            "poor": poor,
            "improved": improved_count,
            "failed": count_lines(layout.failed),
            "good_included": good_included,
            "poor_written": count_lines(layout.poor),
            "interleaved": count_lines(layout.interleaved),
            "quarantined": count_lines(layout.quarantine),
        },
        "issues": analysis.get("issues_structural", {}),
        "issues_notes": analysis.get("issues_notes", {}),
        "validation": {"passed": improved_count, "failed": sum(reasons.values())},
        "attempts": {str(k): v for k, v in sorted(attempts.items())},
        "rejections": dict(reasons.most_common()),
        "failed_reasons": _failed_reasons(layout),
        "strict_validation": _validation(layout),
        "interleaving": _interleaving(layout),
        "judged": improved["judged"],
        "quality_poor_input": {
            k: None if v is None else round(v, 4)
            for k, v in (analysis.get("means_poor") or {}).items()
        },
        **_sum_runs(runs),
        "runs": len(runs),
        "run_history": [
            {k: r.get(k) for k in ("elapsed_s", "interrupted", "cost_usd")}
            | {"requests": r.get("requests", {}).get("total", 0)}
            for r in runs
        ],
        "interrupted": bool(last.get("interrupted", False)),
        "complete": bool(analysis.get("complete", False)) and not last.get("interrupted", False),
        "coverage": _coverage(analysis, improved["tool_calls"]),
        "files": files,
        "model": last.get("model"),
        "version": __version__,
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    shards = layout.read_json(layout.state / "shards.json")
    if shards:
        report["shards"] = shards
    if improved["after"] is not None:
        report["quality_before"] = improved["before"]
        report["quality_after"] = improved["after"]
    return report


# -- markdown ------------------------------------------------------------------------------


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def render_markdown(report: dict[str, Any]) -> str:
    """report.md: the same numbers as report.json, for people."""
    c = report["counts"]
    status = "complete" if report["complete"] else "incomplete (interrupted: rerun to resume)"
    share = (
        f"{c['poor'] / (c['input'] - c['malformed']):.1%}" if c["input"] - c["malformed"] else "n/a"
    )
    parts = [
        "# Dataset improvement report",
        f"Run {status}; model `{report['model']}`; syngen_improve {report['version']}; "
        f"generated {report['generated_at']}.",
        "## Summary",
        _table(("", "count"), [(k, v) for k, v in c.items()]),
        "## Analysis",
        f"{c['poor']} of {c['input'] - c['malformed']} examples are poor ({share}); "
        f"{c['malformed']} malformed line(s) quarantined.",
        _table(
            ("issue", "structural detectors", "judge's notes"),
            [(k, report["issues"].get(k), report["issues_notes"].get(k))
             for k in sorted(set(report["issues"]) | set(report["issues_notes"]))],
        ),
        "## Improvement",
        _table(
            ("", "count"),
            [("improved", c["improved"]), ("failed", c["failed"]),
             ("answers accepted", report["validation"]["passed"]),
             ("answers rejected", report["validation"]["failed"])]
            + [(f"rejected: {k}", v) for k, v in report["rejections"].items()]
            + [(f"failed: {k}", v) for k, v in report["failed_reasons"].items()]
            + [(f"examples done in {k} answer(s)", v) for k, v in report["attempts"].items()],
        ),
    ]  # fmt: skip
    sv = report["strict_validation"]
    parts += [
        "## Validation of the improved examples (strict profile)",
        f"{sv['passed']} of {sv['total']} pass (pass rate {sv['pass_rate']}).",
        _table(("warning code", "count"), list(sv["warnings"].items())),
    ]
    il = report["interleaving"]
    if il is not None:
        labels = " ".join("T" if x else "F" for x in il["first_labels"])
        parts += [
            "## Interleaving (as a trainer reads it)",
            _table(
                ("", "value"),
                [("rows", il["rows"]), ("desirable", il["desirable"]),
                 ("undesirable", il["undesirable"]), ("first 20 labels", labels),
                 ("alternating while both last", il["alternating"]),
                 ("longest run", il["longest_run"]),
                 (f"batches of {il['batch_size']} lacking a label", il["batches_lacking_a_label"]),
                 ("weighted ratio D/U", il["weighted_ratio"]),
                 ("suggested weights", il["suggested_weights"])],
            ),
        ]  # fmt: skip
    parts.append("## Quality before and after")
    if "quality_after" in report:
        qb, qa = report["quality_before"], report["quality_after"]
        rows = []
        for dim in (*DIMENSIONS, "overall_quality"):
            b, a = qb.get(dim), qa.get(dim)
            delta = None if a is None or b is None else f"{a - b:+.2f}"
            rows.append((dim, _fmt(b), _fmt(a), delta))
        parts += [
            f"Measured by the judge on {report['judged']} improved examples (before: the "
            "original's scores).",
            _table(("dimension", "before", "after", "change"), rows),
        ]
        if report.get("chart"):
            parts.append(f"![quality before and after]({report['chart']})")
    else:
        parts.append("Not judged (run with `--judge` to measure the quality after).")
    cov = report["coverage"]
    parts += [
        "## Tool coverage by agent",
        f"{cov['tools']} tools.",
        _table(
            ("agent", "tools", "calls in input", "calls in improved"),
            [(a, r["tools"], r["input_calls"], r["improved_calls"])
             for a, r in cov["agents"].items()],
        ),
        "## Files",
        _table(("file", "bytes"), [(f"`{k}`", f"{v:,}") for k, v in report["files"].items()]),
        "## Requests, tokens, cost",
        _table(
            ("", "value"),
            [(f"requests {k}", v) for k, v in report["requests"].items()]
            + [(f"tokens {k}", v) for k, v in report["tokens"].items()]
            + [("cost (USD)", f"{report['cost_usd']:.6f}"), ("elapsed (s)", report["elapsed_s"]),
               ("runs", report["runs"])],
        ),
    ]  # fmt: skip
    if report.get("shards"):
        parts += [
            "## Shards",
            _table(
                ("folder", "input", "poor", "improved", "failed", "requests", "cost (USD)"),
                [(f"`{s['dir']}`", s["counts"].get("input"), s["counts"].get("poor"),
                  s["counts"].get("improved"), s["counts"].get("failed"), s["requests"],
                  s["cost_usd"]) for s in report["shards"]],
            ),
        ]  # fmt: skip
    if report["runs"] > 1:
        parts += [
            "## Runs (each resume is a run)",
            _table(
                ("run", "requests", "cost (USD)", "elapsed (s)", "interrupted"),
                [(i, r["requests"], r["cost_usd"], r["elapsed_s"], r["interrupted"])
                 for i, r in enumerate(report["run_history"], 1)],
            ),
        ]  # fmt: skip
    return "\n\n".join(parts) + "\n"


def _chart(layout: Layout, report: dict[str, Any]) -> str | None:
    """A before/after bar chart when matplotlib is installed (extra ``plots``)."""
    if "quality_after" not in report:
        return None
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    dims = [*DIMENSIONS, "overall_quality"]
    before = [report["quality_before"].get(d) or 0 for d in dims]
    after = [report["quality_after"].get(d) or 0 for d in dims]
    fig, ax = plt.subplots(figsize=(8, 3.5))
    xs = range(len(dims))
    ax.bar([x - 0.2 for x in xs], before, width=0.4, label="before")
    ax.bar([x + 0.2 for x in xs], after, width=0.4, label="after")
    ax.set_xticks(list(xs), [d.replace("_", "\n") for d in dims], fontsize=7)
    ax.set_ylim(0, 5)
    ax.legend()
    fig.tight_layout()
    name = "quality.png"
    fig.savefig(layout.root / name, dpi=100)
    plt.close(fig)
    return name


def write_report(output_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Write report.json and report.md (each replaced whole) and return the report."""
    layout = Layout(Path(output_dir))
    report = build_report(layout.root)
    chart = _chart(layout, report)
    if chart is not None:
        report["chart"] = chart
    replace_bytes(layout.report_json, orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
    replace_bytes(layout.report_md, render_markdown(report).encode())
    return report
