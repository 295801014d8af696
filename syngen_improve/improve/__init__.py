"""Improvement: prompt templates, the acceptance gate, and the ``improve_dataset`` pipeline."""

from __future__ import annotations

from ._gate import REASONS, Verdict, build_record, check_reply
from ._pipeline import ImproveResult, improve_dataset, improve_dataset_sync
from ._prompt import IMPROVE_TOOL, improve_tool
from ._templates import ISSUE_BLOCKS, Templates

__all__ = [
    "IMPROVE_TOOL",
    "ISSUE_BLOCKS",
    "ImproveResult",
    "REASONS",
    "Templates",
    "Verdict",
    "build_record",
    "check_reply",
    "improve_dataset",
    "improve_dataset_sync",
    "improve_tool",
]
