"""report.md (and its chart) rendered from the typed report, so its numbers are report.json's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from .._conventions import DIMENSIONS
from ..llm._pricing import cost_text
from ..outputs import Layout
from ._model import Cache, Report, thinking_text
from ._pairs import Pair
from ._warnings import SHORTCUT_ADVICE, shortcut_mark

__all__ = ["render_markdown", "write_chart"]


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _shortcuts(audit: dict[str, Any] | None) -> list[str]:
    if not audit:
        return []
    rows = [
        (
            name,
            _fmt(f["auc"]),
            _fmt(f["mean_desirable"]),
            _fmt(f["mean_undesirable"]),
            shortcut_mark(f),
        )
        for name, f in audit["features"].items()
    ]
    parts = [
        "## Label shortcuts",
        f"How well each surface feature alone tells label=true rows from label=false rows "
        f"in the KTO file (ROC AUC; 0.5 = not at all). Flagged at AUC >= "
        f"{audit['threshold']} or <= {1 - audit['threshold']:.1f}.",
        _table(("feature", "AUC", "mean (true)", "mean (false)", "shortcut"), rows),
    ]
    intended = audit.get("intended") or []
    if intended:
        parts.append(
            f"Intended: {', '.join(intended)} differ(s) because the run fixed that issue kind "
            "(named in the table): the difference is the improvement, not a leak."
        )
    leaks = audit.get("leaks", audit["flagged"])
    if leaks:
        parts.append(
            f"**Warning:** {', '.join(leaks)} alone separate(s) the labels and no fix of the "
            "run accounts for it: a model trained on this file can learn that feature instead "
            f"of the quality. {SHORTCUT_ADVICE}."
        )
    return parts


def _example(pairs: Sequence[Pair]) -> list[str]:
    """One improved example's changes, before and after (report.html has more)."""
    if not pairs:
        return []
    pair = pairs[0]
    rows = [(f"{c.where}: {c.what}", _cell(c.before), _cell(c.after)) for c in pair.changes]
    return [
        "## Before and after (one example)",
        f"Input line {pair.line} ({', '.join(pair.issues) or 'no issue kind'}): what changed. "
        "report.html shows a few per issue kind, in full, with the changes highlighted.",
        _table(("", "before", "after"), rows),
    ]


def _cell(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split()).replace("|", "\\|")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def render_markdown(report: Report, pairs: Sequence[Pair] = ()) -> str:
    """report.md: the same numbers as report.json, for people (``pairs``: improved
    examples beside their originals, the first shown)."""
    c = report.counts
    status = "complete" if report.complete else "incomplete (interrupted: rerun to resume)"
    examples = c.input - c.malformed
    share = f"{c.poor / examples:.1%}" if examples else "n/a"
    parts = [
        "# Dataset improvement report",
        f"Run {status}; model `{report.model}`; syngen_improve {report.version}; "
        f"generated {report.generated_at}.",
        *(["## Warnings", "\n".join(f"- {w}" for w in report.warnings)] if report.warnings else []),
        "## Summary",
        _table(("", "lines"), c.labelled()),
        "## Analysis",
        f"{c.poor} of {examples} examples are poor ({share}); "
        f"{c.malformed} malformed line(s) quarantined.",
        _table(
            ("issue", "structural detectors", "judge's notes"),
            [
                (k, report.issues.get(k), report.issues_notes.get(k))
                for k in sorted(set(report.issues) | set(report.issues_notes))
            ],
        ),
        "## Improvement",
        _table(
            ("", "count"),
            [
                ("improved", c.improved),
                ("failed", c.failed),
                ("answers accepted", report.validation.passed),
                ("answers rejected", report.validation.failed),
            ]
            + [(f"rejected: {k}", v) for k, v in report.rejections.items()]
            + [(f"failed: {k}", v) for k, v in report.failed_reasons.items()]
            + [(f"examples done in {k} answer(s)", v) for k, v in report.attempts.items()]
            + [(f"review: {k}", v) for k, v in (report.review or {}).items()],
        ),
    ]
    sv = report.strict_validation
    parts += [
        "## Validation of the improved examples (strict profile)",
        f"{sv.passed} of {sv.total} pass (pass rate {sv.pass_rate}; context "
        f"convention {sv.context}).",
        _table(("warning code", "count"), list(sv.warnings.items()))
        if sv.warnings
        else "No warnings.",
    ]
    il = report.interleaving
    if il is not None:
        labels = " ".join("T" if x else "F" for x in il.first_labels)
        parts += [
            "## Interleaving (as a trainer reads it)",
            _table(
                ("", "value"),
                [
                    ("rows", il.rows),
                    ("desirable", il.desirable),
                    ("undesirable", il.undesirable),
                    ("first 20 labels", labels),
                    ("alternating while both last", il.alternating),
                    ("longest run", il.longest_run),
                    (f"batches of {il.batch_size} lacking a label", il.batches_lacking_a_label),
                    ("weighted ratio D/U", il.weighted_ratio),
                    ("suggested weights", il.suggested_weights),
                    (f"rows within {il.prompt_gap} rows of the same prompt", il.close_prompts),
                ],
            ),
        ]
    parts += _example(pairs)
    parts += _shortcuts(report.label_shortcuts)
    parts.append("## Quality before and after")
    if report.quality_after is not None:
        qb, qa = report.quality_before or {}, report.quality_after
        qd = report.quality_dataset or {}
        rows = []
        for dim in (*DIMENSIONS, "overall_quality"):
            b, a = qb.get(dim), qa.get(dim)
            delta = None if a is None or b is None else f"{a - b:+.2f}"
            rows.append((dim, _fmt(b), _fmt(a), delta, _fmt(qd.get(dim))))
        parts += [
            f"Measured by the same judge on {report.judged} improved examples and their "
            "originals. The dataset's own scores of those originals are shown apart, not "
            "compared: they come from another judge.",
            _table(("dimension", "before", "after", "change", "dataset's own (before)"), rows),
        ]
        if report.chart:
            parts.append(f"![quality before and after]({report.chart})")
    else:
        parts.append("Not judged (run with `--judge` to measure the quality after).")
    cov = report.coverage
    parts += [
        "## Tool coverage by agent",
        f"{cov.tools} tools.",
        _table(
            ("agent", "tools", "calls in input", "calls in improved"),
            [(a, r.tools, r.input_calls, r.improved_calls) for a, r in cov.agents.items()],
        ),
        "## Files",
        _table(("file", "bytes"), [(f"`{k}`", f"{v:,}") for k, v in report.files.items()]),
        "## Requests, tokens, cost",
        _table(
            ("", "value"),
            [(f"requests {k}", v) for k, v in asdict(report.requests).items()]
            + [(f"tokens {k}", v) for k, v in asdict(report.tokens).items()]
            + _cache_rows(report.cache)
            + _answer_rows(report.answer_tool or {})
            + _thinking_rows(report.thinking)
            + [
                ("cost (USD)", cost_text(report.cost_usd, 6).lstrip("$")),
                ("elapsed (s)", report.elapsed_s),
                ("runs", report.runs),
            ],
        ),
    ]
    if report.shards:
        parts += [
            "## Shards",
            _table(
                ("folder", "input", "poor", "improved", "failed", "requests", "cost (USD)"),
                [
                    (
                        f"`{s['dir']}`",
                        s["counts"].get("input"),
                        s["counts"].get("poor"),
                        s["counts"].get("improved"),
                        s["counts"].get("failed"),
                        s["requests"],
                        s["cost_usd"],
                    )
                    for s in report.shards
                ],
            ),
        ]
    if report.runs > 1:
        parts += [
            "## Runs (each resume is a run)",
            _table(
                ("run", "requests", "cost (USD)", "elapsed (s)", "interrupted"),
                [
                    (i, r.requests, r.cost_usd, r.elapsed_s, r.interrupted)
                    for i, r in enumerate(report.run_history, 1)
                ],
            ),
        ]
    return "\n\n".join(parts) + "\n"


def write_chart(layout: Layout, report: Report) -> str | None:
    """A before/after bar chart when matplotlib is installed (extra ``plots``)."""
    if report.quality_after is None or report.quality_before is None:
        return None
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    dims = [*DIMENSIONS, "overall_quality"]
    before = [report.quality_before.get(d) or 0 for d in dims]
    after = [report.quality_after.get(d) or 0 for d in dims]
    fig, ax = plt.subplots(figsize=(8, 3.5))
    xs = range(len(dims))
    ax.bar([x - 0.2 for x in xs], before, width=0.4, label="before")
    ax.bar([x + 0.2 for x in xs], after, width=0.4, label="after")
    ax.set_xticks(list(xs), [d.replace("_", "\n") for d in dims], fontsize=7)
    ax.set_ylim(0, 5)
    # Above the plot, never over a bar (scores of 5 reach the top)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
    fig.tight_layout()
    name = "quality.png"
    fig.savefig(layout.root / name, dpi=100)
    plt.close(fig)
    return name


def _cache_rows(cache: Cache) -> list[tuple[str, Any]]:
    """The prompt-cache lines of the token table: the share of input served from the cache
    and whether the prefix clears the model's floor (and why not)."""
    if not cache.status:
        return []
    share = cache.read_share
    return [
        (
            "prompt cache",
            f"{cache.status}: prefix ~{cache.prefix_tokens or 0:,} tokens, "
            f"floor {cache.floor or 0:,}",
        ),
        ("input served from the cache", "-" if share is None else f"{share:.1%}"),
    ]


def _thinking_rows(thinking: dict[str, Any] | None) -> list[tuple[str, Any]]:
    text = thinking_text(thinking)
    return [("thinking", text)] if text else []


def _answer_rows(tool: dict[str, Any]) -> list[tuple[str, Any]]:
    """How the model answered: structured, strict or not (and why not)."""
    if not tool:
        return []
    strict = "strict" if tool.get("strict") else f"not strict ({tool.get('reason')})"
    return [("answers", f"{tool.get('answers', 'structured')}, {strict}")]
