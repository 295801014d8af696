"""Context conventions: the object in a tool call's arguments that carries the session's
context (the dataset's seven-field ``context``, none, or one a user describes).

``context7`` (:data:`SEVEN_FIELDS`) is used for data that has it, ``none``
(:data:`NO_CONTEXT`) for data that does not (:func:`detect_file_convention` decides from a
file's first rows); :func:`load_convention` reads a user's own from TOML or JSON.
"""

from __future__ import annotations

from ._convention import (
    CONVENTIONS,
    NO_CONTEXT,
    SEVEN_FIELDS,
    ContextConvention,
    load_convention,
    resolve_convention,
)
from ._detect import SAMPLE_ROWS, detect_convention, detect_file_convention, sample_rows

__all__ = [
    "CONVENTIONS",
    "ContextConvention",
    "NO_CONTEXT",
    "SAMPLE_ROWS",
    "SEVEN_FIELDS",
    "detect_convention",
    "detect_file_convention",
    "load_convention",
    "resolve_convention",
    "sample_rows",
]
