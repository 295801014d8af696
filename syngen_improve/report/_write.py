"""Writing report.json, report.md and report.html into an output folder."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import orjson

from .._jsonl import replace_bytes
from ..outputs import Layout
from ._build import build_report, run_context
from ._html import render_html
from ._markdown import render_markdown, write_chart
from ._model import Report
from ._pairs import sample_pairs

__all__ = ["write_report"]


def write_report(output_dir: str | os.PathLike[str]) -> Report:
    """Write report.json, report.md and report.html (each replaced whole) and return the
    report."""
    layout = Layout(Path(output_dir))
    report = build_report(layout.root)
    chart = write_chart(layout, report)
    if chart is not None:
        report = dataclasses.replace(report, chart=chart)
    data = orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2) + b"\n"
    replace_bytes(layout.report_json, data)
    context = run_context(layout.read_json(layout.analysis) or {})
    pairs = sample_pairs(layout.poor, layout.improved, context=context)  # a few, beside originals
    replace_bytes(layout.report_md, render_markdown(report, pairs).encode())
    replace_bytes(layout.report_html, render_html(report, layout, pairs).encode())
    return report
