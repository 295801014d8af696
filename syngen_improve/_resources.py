"""Paths of the data files bundled with the package."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["sample_path", "tool_schemas_path"]


def _data_file(name: str) -> Path:
    return Path(str(files("syngen_improve") / "data" / name))


def sample_path() -> Path:
    """The bundled 200-line sample of real scored examples (one line malformed on purpose)."""
    return _data_file("sample.jsonl")


def tool_schemas_path() -> Path:
    """The bundled definitions of the dataset's 47 tools, in the dataset's own format."""
    return _data_file("tool_schemas.json")
