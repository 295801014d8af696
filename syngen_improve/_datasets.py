"""An exported JSONL file as a Hugging Face ``datasets.Dataset``, for notebook users.

``datasets`` is imported only here, and only when asked (it is an optional dependency: the
``datasets`` extra). The file is read as ``load_dataset("json", ...)`` reads it, so the
columns are those a training script gets from the same file; the dataset is held in memory
and its preparation cache removed, so nothing is left behind on disk.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from .errors import UsageError

__all__ = ["as_dataset"]


def as_dataset(path: str | os.PathLike[str]) -> Any:
    """The rows of ``path`` (JSONL) as a ``datasets.Dataset``."""
    try:
        import datasets  # type: ignore[import-untyped]
    except ImportError:
        raise UsageError(
            "a Dataset needs the datasets package: pip install 'syngen_improve[datasets]' "
            "(or pip install datasets)"
        ) from None
    with tempfile.TemporaryDirectory(prefix="syngen-datasets-") as cache:
        return datasets.load_dataset(
            "json", data_files=os.fspath(path), split="train", cache_dir=cache, keep_in_memory=True
        )
