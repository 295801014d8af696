"""Repeated inputs are counted through an index on disk, gone when the pass ends."""

from __future__ import annotations

from pathlib import Path

from syngen_improve import sample_path
from syngen_improve.analyze._route import Router
from syngen_improve.analyze._seen import SeenKeys


def test_the_first_line_of_each_key(tmp_path: Path) -> None:
    with SeenKeys(tmp_path) as seen:
        assert [seen.first(k, n) for n, k in enumerate([b"a", b"b", b"a", b"a", b"b"], 1)] == [
            1, 2, 1, 1, 2,
        ]  # fmt: skip
        assert seen.path.exists()
    assert not seen.path.exists()
    with SeenKeys() as scratch:  # no folder: a temporary one, removed with it
        assert scratch.first(b"x", 7) == 7
    assert not scratch.path.parent.exists()


def test_the_router_counts_repeats_through_a_spill_file(tmp_path: Path) -> None:
    lines = sample_path().read_bytes().splitlines(keepends=True)
    data = tmp_path / "twice.jsonl"
    data.write_bytes(b"".join(lines[:50] + lines[:50]))
    spill = tmp_path / "state"
    router = Router(data, dedupe=True, spill=spill)
    routes = [r.route for r in router]
    assert router.duplicates == 50
    assert routes[50:].count("duplicate") == 50 - routes[:50].count("malformed")
    assert routes[:50].count("duplicate") == 0
    assert list(spill.iterdir()) == []  # the index is scratch: gone when the pass ends
