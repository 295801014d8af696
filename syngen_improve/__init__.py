"""syngen_improve: turn a messy synthetic tool-calling dataset into clean preference data."""

from __future__ import annotations

import typing as _typing

from ._grammar import ToolCall, parse_tool_calls
from ._jsonl import JsonlWriter, Malformed, Record, read_jsonl
from ._resources import sample_path, tool_schemas_path
from ._version import __version__
from .analyze import (
    DatasetProfile,
    RelabelPolicy,
    SeedPolicy,
    analyze_dataset,
    detect_from_notes,
    detect_structural,
)
from .config import ImproveConfig
from .context import ContextConvention
from .errors import SyngenError, SyngenWarning
from .estimate import Estimate, estimate_cost
from .improve import Improver, Outcome
from .llm import RateLimits, RetryPolicy
from .prompts import Templates
from .report import Report
from .run import ImproveResult, improve_dataset, improve_dataset_sync
from .validate import (
    Issue,
    ToolRegistry,
    ValidationReport,
    validate_example,
    validate_file,
)

if _typing.TYPE_CHECKING:
    from ._model import Context, Example, Message, QualityScores

__all__ = [
    "Context",
    "ContextConvention",
    "DatasetProfile",
    "Estimate",
    "Example",
    "ImproveConfig",
    "ImproveResult",
    "Improver",
    "Issue",
    "JsonlWriter",
    "Malformed",
    "Message",
    "Outcome",
    "QualityScores",
    "RateLimits",
    "Record",
    "RelabelPolicy",
    "Report",
    "RetryPolicy",
    "SeedPolicy",
    "SyngenError",
    "SyngenWarning",
    "Templates",
    "ToolCall",
    "ToolRegistry",
    "ValidationReport",
    "__version__",
    "analyze_dataset",
    "detect_from_notes",
    "detect_structural",
    "estimate_cost",
    "improve_dataset",
    "improve_dataset_sync",
    "parse_tool_calls",
    "read_jsonl",
    "sample_path",
    "tool_schemas_path",
    "validate_example",
    "validate_file",
]

#: Loaded on first use: pydantic costs a tenth of a second of start-up that a run of the
#: pipeline (which reads plain dicts) does not need.
_MODELS = frozenset({"Context", "Example", "Message", "QualityScores"})


def __getattr__(name: str) -> _typing.Any:
    if name in _MODELS:
        from . import _model

        value = getattr(_model, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
