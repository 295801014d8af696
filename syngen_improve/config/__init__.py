"""One frozen, validated configuration for a run: :class:`ImproveConfig`; each option is
declared once with its flag, help, consumer and range."""

from __future__ import annotations

from ._improve import (
    BATCH_CONCURRENCY,
    ONLINE_CONCURRENCY,
    ImproveConfig,
    StrictTools,
    options_of,
)
from ._parts import SHORTCUTS, parse_shard

__all__ = [
    "BATCH_CONCURRENCY",
    "ImproveConfig",
    "ONLINE_CONCURRENCY",
    "SHORTCUTS",
    "StrictTools",
    "options_of",
    "parse_shard",
]
