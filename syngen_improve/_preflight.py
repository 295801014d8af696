"""Before the first paid request: is there anything in the input to improve?"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from ._conventions import iter_tool_calls
from ._input import not_jsonl
from .config import ImproveConfig
from .context import SAMPLE_ROWS, detect_convention, sample_rows
from .errors import InvalidInput, option

__all__ = ["check_head", "preflight"]


def preflight(source: Path, cfg: ImproveConfig) -> ImproveConfig:
    """Before any paid request: refuse a file whose first lines hold no tool call in a
    supported dialect (nothing in it could pass), and settle the run's context convention
    from those lines when it was not given."""
    head = sample_rows(source, cfg.dialect)
    if not head:
        raise InvalidInput(
            not_jsonl(source, f"no line is a JSON object among its first {SAMPLE_ROWS} lines")
            + "; nothing to improve, no request sent"
        )
    return check_head(head, cfg, source=str(source))


def check_head(head: list[dict[str, Any]], cfg: ImproveConfig, *, source: str) -> ImproveConfig:
    """:func:`preflight` on the first rows of an input (in the text grammar), named
    ``source`` in the error."""
    if not any(any(iter_tool_calls(row)) for row in head):
        raise InvalidInput(
            f"{source}: no line has a tool call among its first {SAMPLE_ROWS} lines in any "
            "supported dialect (text tool_call:, OpenAI tool_calls, ShareGPT function_call, "
            "Hermes <tool_call>): nothing to improve, no request sent. Check the file, or "
            f"force its dialect ({option('--dialect', 'dialect=')})"
        )
    if cfg.context is None:  # one convention for the whole run, from the same lines
        cfg = dataclasses.replace(cfg, context=detect_convention(head))
    return cfg
