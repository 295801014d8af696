"""The whole-file ``kto`` order on disk equals the in-memory one it replaced (the oracle in
tests/interleave_oracle.py), row for row, and leaves no scratch file behind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from syngen_improve.interleave._kto_file import kto_records
from syngen_improve.interleave._kto_place import LOOKAHEAD
from tests import interleave_oracle as oracle

PROMPTS = [f"Show me folder {i}" for i in range(6)]


def row(prompt: str | None, source: int | None, label: bool | None, n: int) -> dict[str, Any]:
    turns = [{"role": "assistant", "content": f"reply {n}"}]
    if prompt is not None:
        turns.insert(0, {"role": "user", "content": prompt})
    out: dict[str, Any] = {"conversations": turns, "n": n}
    if source is not None:
        out["_source_line"] = source
    if label is not None:
        out["label"] = label
    return out


rows = st.lists(
    st.tuples(
        st.sampled_from([*PROMPTS, None]),
        st.one_of(st.none(), st.integers(1, 40), st.sampled_from([2**64, -(2**70)])),
        st.sampled_from([True, False, None]),
    ),
    max_size=60,
)


def write(path: Path, items: list[tuple[Any, ...]], side: int) -> Path:
    lines = [json.dumps(row(p, s, label, side * 1000 + i)) for i, (p, s, label) in enumerate(items)]
    path.write_text("".join(line + "\n" for line in lines) + ("not json\n" if side else "\n"))
    return path


@settings(max_examples=150, deadline=None)
@given(good=rows, bad=rows, gap=st.sampled_from([0, 1, 2, 8]), pairs_only=st.booleans(),
       seed=st.one_of(st.none(), st.integers(0, 5)))  # fmt: skip
def test_the_order_on_disk_is_the_order_in_memory(
    tmp_path_factory: Any,
    good: list[tuple[Any, ...]],
    bad: list[tuple[Any, ...]],
    gap: int,
    pairs_only: bool,
    seed: int | None,
) -> None:
    folder = tmp_path_factory.mktemp("kto")
    d, u = write(folder / "d.jsonl", good, 0), write(folder / "u.jsonl", bad, 1)
    options = {"gap": gap, "seed": seed, "pairs_only": pairs_only}
    expected, expected_counts = oracle.kto_records(d, u, **options)
    spill = folder / "state"
    got, counts = kto_records(d, u, spill=spill, **options)
    assert list(got) == list(expected)
    assert counts == expected_counts
    assert list(spill.iterdir()) == []


long_rows = st.lists(
    st.tuples(
        st.sampled_from([*PROMPTS[:3], None]),
        st.one_of(st.none(), st.integers(1, 200)),
        st.sampled_from([True, None]),
    ),
    min_size=LOOKAHEAD + 1,
    max_size=4 * LOOKAHEAD,
)


@settings(max_examples=25, deadline=None)
@given(good=long_rows, bad=long_rows, gap=st.sampled_from([1, 3, 8, 20]))
def test_queues_longer_than_the_lookahead_keep_the_order_in_memory(
    tmp_path_factory: Any, good: list[tuple[Any, ...]], bad: list[tuple[Any, ...]], gap: int
) -> None:
    """Past :data:`LOOKAHEAD` rows a queue refills while prompts enter and leave the
    window: the heap of candidates must still pick what the scan of the oracle picks."""
    folder = tmp_path_factory.mktemp("kto")
    d, u = write(folder / "d.jsonl", good, 0), write(folder / "u.jsonl", bad, 1)
    expected, expected_counts = oracle.kto_records(d, u, gap=gap)
    got, counts = kto_records(d, u, gap=gap)
    assert list(got) == list(expected)
    assert counts == expected_counts


def test_the_real_pairs_with_failures_and_repeats(shared_data: Path, tmp_path: Path) -> None:
    """The 200 real pairs as a run writes them (improvements in another order than their
    originals, some originals without an improvement, prompts repeated), at three gaps."""
    text = (shared_data / "improved_pairs_sample.jsonl").read_text()
    pairs = [json.loads(x) for x in text.splitlines()]
    improved, poor = [], []
    for n, pair in enumerate(pairs * 3, 1):
        poor.append({**pair["original"], "_source_line": n, "label": False})
        if n % 7:
            improved.append({**pair["improved"], "_source_line": n, "label": True})
    improved.reverse()
    d, u = tmp_path / "d.jsonl", tmp_path / "u.jsonl"
    d.write_text("".join(json.dumps(r) + "\n" for r in improved))
    u.write_text("".join(json.dumps(r) + "\n" for r in poor))
    for gap in (0, 4, 8):
        expected, expected_counts = oracle.kto_records(d, u, gap=gap)
        got, counts = kto_records(d, u, gap=gap)
        assert list(got) == list(expected)
        assert counts == expected_counts
        assert counts["pairs"] == len(improved)
