"""``python -m syngen_improve``: the command line."""

from __future__ import annotations

from .cli import main_exit

main_exit()
