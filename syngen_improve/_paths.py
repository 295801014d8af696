"""Refusing to write over an input before a byte is written."""

from __future__ import annotations

from pathlib import Path

from .errors import UsageError

__all__ = ["refuse_overwrite"]


def refuse_overwrite(target: Path, *inputs: Path) -> None:
    """Raise :class:`UsageError` when ``target`` is one of ``inputs`` (links resolved)."""
    resolved = target.resolve()
    for path in inputs:
        if path.resolve() == resolved:
            raise UsageError(
                f"the output {target} is also an input ({path}): write to another file"
            )
