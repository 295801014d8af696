"""The ``syngen-improve`` command line: one module per command, dispatched by the
parser, errors mapped to exit codes in one place (``_app``)."""

from __future__ import annotations

from ._app import build_parser, main, main_exit
from ._docs import reference_markdown

__all__ = ["build_parser", "main", "main_exit", "reference_markdown"]
