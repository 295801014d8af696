"""report.json, report.md and report.html, made from an output folder alone (DESIGN.md §6).

Every number comes from the folder: counts from the files themselves, attempts and
rejection reasons from the ledger, the analysis from ``state/analysis.json``, requests,
tokens and cost from ``state/runs.jsonl`` (one line per run: resumes add runs), quality
before/after from the improved records, validation by re-validating the improved file,
and the interleaving by reading the interleaved file as a trainer would. One typed
``Report`` is built once; report.json, report.md and report.html are rendered from it.
``syngen-improve report DIR`` rebuilds them.
"""

from __future__ import annotations

from ._build import TIMING_FIELDS, build_report, run_context
from ._markdown import render_markdown
from ._model import Counts, Report, Requests, Tokens
from ._write import write_report

__all__ = [
    "Counts",
    "Report",
    "Requests",
    "TIMING_FIELDS",
    "Tokens",
    "build_report",
    "render_markdown",
    "run_context",
    "write_report",
]
