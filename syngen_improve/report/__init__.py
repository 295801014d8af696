"""report.json and report.md, made from an output folder alone (DESIGN.md §6).

Every number comes from the folder: counts from the files themselves, attempts and
rejection reasons from the ledger, the analysis from ``state/analysis.json``, requests,
tokens and cost from ``state/runs.jsonl`` (one line per run: resumes add runs), quality
before/after from the improved records, validation by re-validating the improved file,
and the interleaving by reading the interleaved file as a trainer would. ``report.md``
is rendered from the same dict. ``syngen-improve report DIR`` rebuilds both.
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson

from .._jsonl import replace_bytes
from ..outputs import Layout
from ._build import TIMING_FIELDS, build_report
from ._markdown import render_markdown, write_chart
from ._model import Counts, Report, Requests, Tokens

__all__ = [
    "Counts",
    "Report",
    "Requests",
    "TIMING_FIELDS",
    "Tokens",
    "build_report",
    "render_markdown",
    "write_report",
]


def write_report(output_dir: str | os.PathLike[str]) -> Report:
    """Write report.json and report.md (each replaced whole) and return the report."""
    layout = Layout(Path(output_dir))
    report = build_report(layout.root)
    chart = write_chart(layout, report)
    if chart is not None:
        report["chart"] = chart
    replace_bytes(layout.report_json, orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
    replace_bytes(layout.report_md, render_markdown(report).encode())
    return Report.from_dict(report)
