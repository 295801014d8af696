"""The train/eval split of an export: by group, so that an improvement and its original
(or a repeated input) never straddle the two files, and stable without memory."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

__all__ = ["in_eval", "split_group"]


def split_group(example: Mapping[str, Any]) -> str:
    """What must not be split between train and eval: the input line a record came from
    (``_source_key``: an improvement and its original share it, and so do repeated
    inputs), else its ``_source_line``, else its first user turn."""
    key = example.get("_source_key")
    if isinstance(key, str) and key:
        return key
    line = example.get("_source_line")
    if isinstance(line, int):
        return f"line:{line}"
    turns = example.get("conversations")
    for turn in turns if isinstance(turns, list) else []:
        if isinstance(turn, Mapping) and turn.get("role") == "user":
            return f"prompt:{turn.get('content')}"
    return orjson.dumps(example, option=orjson.OPT_SORT_KEYS).decode()


def in_eval(example: Mapping[str, Any], fraction: float, seed: int) -> bool:
    """Whether the record's group goes to eval: a hash of the group and the seed, so the
    split is stable across runs and machines and needs no memory."""
    digest = hashlib.blake2b(f"{seed}:{split_group(example)}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2**64 < fraction
