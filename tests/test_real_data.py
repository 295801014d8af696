"""The real data copied into tests/data is unchanged (its hashes are in its README)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def test_the_copies_are_the_originals() -> None:
    recorded = dict(
        re.findall(
            r"^\| `([\w.]+)` \|.*\| `([0-9a-f]{64})` \|$", (DATA / "README.md").read_text(), re.M
        )
    )
    assert set(recorded) == {"scored_sample.jsonl", "improved_pairs_sample.jsonl"}
    for name, digest in recorded.items():
        assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == digest, name
