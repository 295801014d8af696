"""The interleaver: property tests over every policy, files, pairs, shuffle, verification."""

from __future__ import annotations

import itertools
import json
import math
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syngen_improve.interleave import (
    POLICIES,
    InterleaveStats,
    interleave,
    interleave_files,
    verify_interleaving,
)


def sides(d: int, u: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return [{"id": f"d{i}"} for i in range(d)], [{"id": f"u{i}"} for i in range(u)]


def run(d: int, u: int, policy: str) -> tuple[list[dict[str, Any]], InterleaveStats]:
    good, bad = sides(d, u)
    stats = InterleaveStats(policy)
    rows = list(
        interleave(
            good, bad, policy=policy, counts=(d, u), stats=stats,  # type: ignore[arg-type]
            again=lambda label: iter(good if label else bad),
        )
    )  # fmt: skip
    return rows, stats


def longest_run(labels: list[bool]) -> int:
    best = run_ = 0
    for i, label in enumerate(labels):
        run_ = run_ + 1 if i and labels[i - 1] == label else 1
        best = max(best, run_)
    return best


counts = st.integers(min_value=0, max_value=60)


def tail_warning(policy: str, d: int, u: int) -> AbstractContextManager[Any]:
    """``tail`` warns when it has a surplus to put at the end."""
    if policy == "tail" and d != u:
        return pytest.warns(UserWarning, match="surplus at the end")
    return nullcontext()


@settings(max_examples=150, deadline=None)
@given(d=counts, u=counts, policy=st.sampled_from([p for p in POLICIES if p != "kto"]))
def test_nothing_lost_or_duplicated_except_declared(d: int, u: int, policy: str) -> None:
    with tail_warning(policy, d, u):
        rows, stats = run(d, u, policy)
    ids = [r["id"] for r in rows if not r.get("_repeat")]
    assert len(ids) == len(set(ids))
    if policy == "truncate":
        assert len(ids) == 2 * min(d, u)
        assert stats.dropped == abs(d - u)
    else:
        assert sorted(ids) == sorted(r["id"] for r in itertools.chain(*sides(d, u)))
    repeats = [r for r in rows if r.get("_repeat")]
    assert len(repeats) == stats.repeated
    if policy == "oversample" and min(d, u) > 0:
        assert stats.repeated == abs(d - u)
    else:
        assert stats.repeated == 0
    assert all(r["label"] is r["id"].startswith("d") for r in rows)
    assert stats.written == len(rows)


@settings(max_examples=150, deadline=None)
@given(d=counts, u=counts, policy=st.sampled_from(["truncate", "oversample", "tail"]))
def test_alternates_while_both_last(d: int, u: int, policy: str) -> None:
    with tail_warning(policy, d, u):
        rows, _ = run(d, u, policy)
    labels = [r["label"] for r in rows]
    n = 2 * min(d, u)
    assert labels[:n] == [True, False] * min(d, u)
    if policy == "oversample" and min(d, u) > 0:
        assert labels == [True, False] * max(d, u)


@settings(max_examples=200, deadline=None)
@given(d=counts, u=counts, batch=st.integers(min_value=2, max_value=16))
def test_spread_bounds_runs_and_fills_every_window(d: int, u: int, batch: int) -> None:
    rows, _ = run(d, u, "spread")
    labels = [r["label"] for r in rows]
    if d:
        assert labels[0] is True
    if min(d, u) == 0:
        return
    bound = math.ceil(max(d, u) / min(d, u))
    assert longest_run(labels) <= bound
    if bound <= batch - 1:  # the ratio allows a mixed window
        for start in range(len(labels) - batch + 1):
            assert len(set(labels[start : start + batch])) == 2
    if d == u:
        assert labels == [True, False] * d


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_pairs_keep_each_improvement_before_its_original(tmp_path: Path) -> None:
    good = write(tmp_path / "g.jsonl", [{"_source_line": n, "v": "new"} for n in (5, 2, 9, 7)])
    bad = write(tmp_path / "b.jsonl", [{"_source_line": n, "v": "old"} for n in (9, 2, 5, 11, 7)])
    out = tmp_path / "out.jsonl"
    stats = interleave_files(good, bad, out, pairs=True)
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [(r["_source_line"], r["label"]) for r in rows] == [
        (5, True), (5, False), (2, True), (2, False), (9, True), (9, False),
        (7, True), (7, False), (11, False),
    ]  # fmt: skip
    assert stats.pairs == 4
    assert not list(tmp_path.glob("*.tmp"))


def test_seeded_shuffle_is_reproducible_and_bounded(tmp_path: Path) -> None:
    good = write(tmp_path / "g.jsonl", [{"_source_line": n} for n in range(100)])
    bad = write(tmp_path / "b.jsonl", [{"_source_line": n} for n in range(100)])
    orders = []
    for seed in (1, 1, 2):
        out = tmp_path / f"out{seed}.jsonl"
        interleave_files(good, bad, out, pairs=True, shuffle_seed=seed, shuffle_buffer=16)
        orders.append([json.loads(x)["_source_line"] for x in out.read_text().splitlines()])
    assert orders[0] == orders[1]
    assert orders[0] != orders[2]
    assert orders[0][::2] != list(range(100))
    assert orders[0][::2] == orders[0][1::2]  # still pairs
    assert sorted(orders[0][::2]) == list(range(100))


def test_file_errors_and_policy_checks(tmp_path: Path) -> None:
    good = write(tmp_path / "g.jsonl", [{"a": 1}])
    with pytest.raises(FileNotFoundError, match="input file not found"):
        interleave_files(good, tmp_path / "none.jsonl", tmp_path / "o.jsonl")
    with pytest.raises(ValueError, match="cannot keep pairs"):
        interleave_files(good, good, tmp_path / "o.jsonl", pairs=True, policy="oversample")
    with pytest.raises(ValueError, match="'policy' must be one of"):
        interleave_files(good, good, tmp_path / "o.jsonl", policy="zip")  # type: ignore[arg-type]


def test_verify_reports_what_a_trainer_sees(tmp_path: Path) -> None:
    labels = [True, False] * 4 + [True] * 6 + [False, "yes"]
    path = write(tmp_path / "k.jsonl", [{"label": x} for x in labels])
    report = verify_interleaving(path, batch_size=4)
    assert (report.total, report.desirable, report.undesirable) == (15, 10, 5)
    assert report.bad_labels == [16]
    assert report.first_labels[:4] == [True, False, True, False]
    assert report.alternating is False  # the fifth False is not where alternation puts it
    assert (report.longest_run, report.longest_run_label) == (6, True)
    assert report.batches == 4
    assert report.batches_lacking_a_label == 1
    assert report.weighted_ratio == 2.0
    assert not report.weights_ok
    assert report.suggested_weights() == {"desirable_weight": 1.0, "undesirable_weight": 2.0}
    weighted = verify_interleaving(path, batch_size=4, undesirable_weight=1.6)
    assert weighted.weights_ok
    assert "lacking a label: 1" in report.format_text()
    assert report.to_dict()["ok"] is False
    good = verify_interleaving(
        write(tmp_path / "a.jsonl", [{"label": x} for x in [True, False] * 3])
    )
    assert good.alternating
    assert good.ok


def conversation(prompt: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": prompt}, {"role": "assistant", "content": "ok"}]


def kto_sides(
    pairs: int, extra_good: int, extra_bad: int, repeats: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``pairs`` improvements and their originals (same prompt, same _source_line), rows
    on one side only, and ``repeats`` originals whose prompt repeats another pair's (a
    duplicated input)."""
    good = [{"_source_line": n, "conversations": conversation(f"ask {n}"), "v": "new"}
            for n in range(1, pairs + 1)]  # fmt: skip
    bad = [{"_source_line": n, "conversations": conversation(f"ask {n}"), "v": "old"}
           for n in range(1, pairs + 1)]  # fmt: skip
    good += [{"_source_line": 1000 + n, "conversations": conversation(f"good {n}")}
             for n in range(extra_good)]  # fmt: skip
    bad += [{"_source_line": 2000 + n, "conversations": conversation(f"failed {n}")}
            for n in range(extra_bad)]  # fmt: skip
    bad += [{"_source_line": 3000 + n, "conversations": conversation(f"ask {1 + n % pairs}")}
            for n in range(repeats if pairs else 0)]  # fmt: skip
    return good, bad


@settings(max_examples=60, deadline=None)
@given(pairs=st.integers(40, 150), extra_good=st.integers(0, 90),
       extra_bad=st.integers(0, 40), repeats=st.integers(0, 6),
       gap=st.sampled_from([0, 4, 8, 12]))  # fmt: skip
def test_kto_alternates_spreads_and_keeps_prompts_apart(
    tmp_path_factory: pytest.TempPathFactory,
    pairs: int, extra_good: int, extra_bad: int, repeats: int, gap: int,
) -> None:  # fmt: skip
    folder = tmp_path_factory.mktemp("kto")
    good, bad = kto_sides(pairs, extra_good, extra_bad, repeats)
    out = folder / "out.jsonl"
    stats = interleave_files(write(folder / "g.jsonl", good), write(folder / "b.jsonl", bad),
                             out, policy="kto", prompt_gap=gap)  # fmt: skip
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    # Nothing lost or duplicated, labels by side.
    key = lambda r: (r["_source_line"], r.get("v"))  # noqa: E731
    assert sorted(key(r) for r in rows) == sorted(key(r) for r in good + bad)
    assert sum(r["label"] for r in rows) == len(good) == stats.desirable
    assert all(r["label"] is (r in [{**g, "label": True} for g in good]) for r in rows[:5])
    # Labels spread: the longest run is the ratio's, never a block of one label.
    d, u = len(good), len(bad)
    labels = [r["label"] for r in rows]
    assert longest_run(labels) <= math.ceil(max(d, u) / min(d, u))
    if abs(d - u) <= 0.01 * max(d, u):
        assert longest_run(labels) <= 2
    # Rows sharing a prompt are more than `gap` rows apart, and the verifier agrees.
    where: dict[str, int] = {}
    close = 0
    for n, r in enumerate(rows):
        prompt = r["conversations"][0]["content"]
        close += prompt in where and n - where[prompt] <= gap
        where[prompt] = n
    assert close == stats.close_prompts == 0
    report = verify_interleaving(out, batch_size=8, prompt_gap=gap)
    assert report.close_prompts == 0
    assert report.longest_run == longest_run(labels)


def test_verify_names_rows_that_share_a_prompt_too_close(tmp_path: Path) -> None:
    good, bad = kto_sides(10, 0, 0, 0)
    rows = [row for pair in zip(good, bad, strict=True) for row in pair]  # adjacent pairs
    for row, label in zip(rows, itertools.cycle([True, False]), strict=False):
        row["label"] = label
    path = write(tmp_path / "adjacent.jsonl", rows)
    report = verify_interleaving(path, batch_size=8, prompt_gap=8)
    assert report.close_prompts == 10
    assert report.close_prompt_lines[0] == (1, 2)
    assert not report.ok
    assert "same prompt: 10" in report.format_text()


def test_the_run_stream_alternates_and_stays_bounded_when_every_prompt_repeats() -> None:
    from syngen_improve.interleave import PairStream

    stream = PairStream(8)
    out: list[dict[str, Any]] = []
    for n in range(2000):  # one prompt for everything: nothing can ever be kept apart
        row = {"conversations": conversation("do the task"), "n": n}
        out += stream.add({**row, "label": True}, {**row, "label": False})
    assert len(out) >= 2 * (2000 - 256)  # held back: at most the lookahead per side
    assert [r["label"] for r in out] == [n % 2 == 0 for n in range(len(out))]
    varied = PairStream(8)
    rows: list[dict[str, Any]] = []
    for n in range(100):
        row = {"conversations": conversation(f"ask {n}")}
        rows += varied.add({**row, "label": True}, {**row, "label": False})
    prompts = [r["conversations"][0]["content"] for r in rows]
    assert all(p not in prompts[max(0, i - 8) : i] for i, p in enumerate(prompts))
    assert len(rows) >= 2 * 100 - 12  # only the last few pairs wait for later ones
