"""The progress bar's counters and its off switch."""

from __future__ import annotations

import io
from pathlib import Path

from syngen_improve._progress import Progress
from syngen_improve.llm import EngineStats, Usage


def test_postfix_shows_done_failed_retries_tokens_and_cost() -> None:
    stats = EngineStats(retried=3, usage=Usage(input=1500, output=500), cost_usd=0.0123)
    out = io.StringIO()
    with Progress(total=3, stats=stats, file=out, interval=0) as bar:
        bar.advance()
        bar.advance(failed=True)
        assert bar.postfix() == "ok=1 failed=1 retries=3 tokens=2.0k $0.0123"
    assert "ok=1 failed=1" in out.getvalue()
    assert "2/3" in out.getvalue()


def test_disabled_progress_counts_but_draws_nothing() -> None:
    out = io.StringIO()
    bar = Progress(total=2, stats=EngineStats(), enabled=False, file=out)
    bar.advance()
    bar.close()
    assert bar.done == 1
    assert out.getvalue() == ""


def test_an_estimated_total_grows_past_what_was_read_and_ends_exact() -> None:
    out = io.StringIO()
    with Progress(total=10, stats=EngineStats(), file=out, interval=0) as bar:
        bar.at_least(5)
        assert bar._bar is not None
        assert bar._bar.total == 10  # still ahead of what was read
        bar.at_least(12)
        assert bar._bar.total == 13  # fell short: a tenth past the lines read
        bar.refine(12)
        for _ in range(12):
            bar.advance()
    assert "12/12" in out.getvalue()


def test_the_estimate_reads_one_sample_not_the_file(tmp_path: Path) -> None:
    from syngen_improve.outputs import count_lines, estimate_lines

    small = tmp_path / "small.jsonl"
    small.write_bytes(b'{"a": 1}\n' * 7 + b'{"a": 2}')  # no final newline
    assert estimate_lines(small) == count_lines(small) == 8
    big = tmp_path / "big.jsonl"
    lines = [b'{"text": "%s"}\n' % (b"x" * (i % 50)) for i in range(40_000)]
    big.write_bytes(b"".join(lines))
    guess = estimate_lines(big, sample=1 << 14)
    assert abs(guess - 40_000) / 40_000 < 0.1
    assert estimate_lines(tmp_path / "missing.jsonl") == 0
    empty = tmp_path / "empty.jsonl"
    empty.touch()
    assert estimate_lines(empty) == 0


def test_the_projected_total_cost_follows_the_rate_so_far() -> None:
    stats = EngineStats(cost_usd=0.05)
    bar = Progress(total=200, stats=stats, enabled=False)
    for _ in range(19):
        bar.advance()
    assert bar.projected_cost() is None  # too early to say
    bar.advance()
    assert bar.projected_cost() == 0.05 * 200 / 20
    assert bar.postfix().endswith("$0.0500 (~$0.5000 total)")
    bar.refine(100)
    assert bar.projected_cost() == 0.05 * 100 / 20
    assert Progress(total=None, stats=stats, enabled=False).projected_cost() is None
