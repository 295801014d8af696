"""The progress bar's counters and its off switch."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from syngen_improve import sample_path
from syngen_improve._progress import Progress
from syngen_improve.llm import EngineStats, Usage


class Clock:
    """A fake ``time.monotonic`` moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_panel_says_what_became_of_each_line_and_what_is_in_flight() -> None:
    stats = EngineStats(retried=3, usage=Usage(input=1500, output=500), cost_picos=12_300_000_000)
    out, clock = io.StringIO(), Clock()
    with Progress(total=5, stats=stats, file=out, interval=0, clock=clock) as bar:
        stats.in_flight = 2  # requests, whatever the examples
        bar.advance("improved")
        bar.advance("good")
        bar.advance("quarantined")
        assert bar.postfix() == (
            "improved 1 failed 0 good 1 quar 1 | $0.0123 | in flight 2 req, retried 3"
        )  # no tokens per minute before a second has passed
        clock.now += 30
        stats.usage = Usage(input=2500, output=800, cache_read=9000, cache_creation=500)
        stats.in_flight = 0
        bar.advance("failed")
    # 1,500 input (uncached, cache writes included), 9,000 cache reads and 300 output
    # tokens in 30 s: per minute 3.0k, 18.0k and 600
    assert "in flight 0 req, retried 3, tok/min in 3.0k cache 18.0k out 600" in out.getvalue()
    assert "improved 1 failed 1 good 1 quar 1" in out.getvalue()
    assert "4/5" in out.getvalue()


def test_tokens_per_minute_are_measured_over_the_last_minute() -> None:
    """A steady 10,000 input tokens a minute for ten minutes reads 10.0k throughout, not
    the tokens so far; a pause brings it to 0 within the minute."""
    stats, clock = EngineStats(), Clock()
    bar = Progress(total=100, stats=stats, enabled=False, clock=clock)
    for _ in range(20):  # every 30 s, 5,000 more input tokens
        clock.now += 30
        stats.usage = Usage(input=stats.usage.input + 5000)
        rates = bar.token_rates()
        assert rates is not None
        assert rates[0] == pytest.approx(10_000)
    clock.now += 61  # nothing for a minute
    bar.token_rates()
    clock.now += 1
    assert bar.token_rates() == (0.0, 0.0, 0.0)
    assert len(bar._seen) <= 4  # memory by the window, not the run


def test_the_panel_fits_100_columns_with_counts_cost_projection_and_eta() -> None:
    """Rendered by tqdm at 100 columns, mid-run of a 3,664-line input and of a million-line
    one: the bar, the lines done, the ETA, every count, the cost and its projection show."""
    for total, done, cost in ((3_664, 1_830, 41_230_000_000), (1_000_000, 420_000, 12.3e12)):
        stats = EngineStats(cost_picos=int(cost), in_flight=100, retried=12, cached=340,
                            usage=Usage(input=90_000_000, output=20_000_000))  # fmt: skip
        out, clock = io.StringIO(), Clock()
        bar = Progress(total=total, stats=stats, file=out, interval=3600, clock=clock, ncols=100)
        for n in range(done):
            bar.advance(("improved", "improved", "good", "failed")[n % 4])
        bar.counts["quarantined"] = 7
        clock.now += 120
        bar.close()  # drawn with the figures of the moment
        line = out.getvalue().rstrip("\n").rsplit("\r", 1)[-1]
        assert len(line.rstrip()) <= 100
        assert re.match(r"\|.{10}\| \S+/\S+ eta ", line), line
        assert "eta " in line
        for label in ("improved", "failed", "good", "quar"):
            assert f" {label} " in line, line
        assert re.search(r"\| \$[\d,.]+ of ~\$[\d,.]+", line), line


def test_the_panel_says_when_the_rate_limit_holds_everyone_and_when_cost_is_unknown() -> None:
    clock = Clock()
    stats = EngineStats(held_until=clock.now + 42.4, priced=False)
    bar = Progress(total=30, stats=stats, enabled=False, clock=clock)
    for _ in range(25):
        bar.advance("improved")
    text = bar.postfix()
    assert "held 42 s for the rate limit" in text
    assert "| cost unknown |" in text  # never $0.0000, and no projection from it
    assert bar.projected_cost() is None


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
    stats = EngineStats(cost_picos=50_000_000_000)
    bar = Progress(total=200, stats=stats, enabled=False)
    for _ in range(19):
        bar.advance()
    assert bar.projected_cost() is None  # too early to say
    bar.advance()
    assert bar.projected_cost() == 0.05 * 200 / 20
    assert "| $0.0500 of ~$0.5000 |" in bar.postfix()  # for the progress display
    bar.refine(100)
    assert bar.projected_cost() == 0.05 * 100 / 20
    assert Progress(total=None, stats=stats, enabled=False).projected_cost() is None


def _final_counts(err: str) -> dict[str, int]:
    found = re.findall(r"improved (\d+) failed (\d+) good (\d+) quar (\d+)", err)
    assert found, err[-500:]
    return dict(zip(("improved", "failed", "good", "quarantined"), map(int, found[-1]),
                    strict=True))  # fmt: skip


def _report_counts(out: Path) -> dict[str, int]:
    c = json.loads((out / "report.json").read_text())["counts"]
    return {"improved": c["improved"], "failed": c["failed"], "good": c["good"],
            "quarantined": c["quarantined"]}  # fmt: skip


@pytest.mark.parametrize("case", ["shard", "resume", "judge"])
def test_the_panel_ends_on_report_jsons_counts(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """At the end of a run the panel's counters are the report's: with --shard 2/3 (the
    shard's lines, total included), after --resume (the lines the first run finished
    count as it left them) and with --judge."""
    from syngen_improve.cli import main

    out = tmp_path / "out"
    args = ["improve", str(sample_path()), "--out", str(out), "--backend", "fake"]
    extra = {"shard": ["--shard", "2/3"], "judge": ["--judge"], "resume": []}[case]
    if case == "resume":  # a first run stopped after 90 lines, then the rest
        assert main([*args, "--limit", "90", "--no-progress"]) == 0
        capsys.readouterr()
        extra = ["--resume"]
    assert main([*args, *extra]) == 0
    err = capsys.readouterr().err
    counts = _final_counts(err)
    assert counts == _report_counts(out)
    total = {"shard": 67, "judge": 200, "resume": 200}[case]
    assert f"{total}/{total}" in err
    assert sum(counts.values()) == total


def test_in_a_notebook_a_widget_only_with_ipywidgets_and_never_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Inside a Jupyter kernel: tqdm's widget when ipywidgets is there; the plain one-line
    bar when it is not, where tqdm.auto would warn ("IProgress not found") and spam text."""
    import importlib.util
    import sys
    import types

    from tqdm.std import tqdm as plain

    from syngen_improve import _progress

    kernel = types.SimpleNamespace(config={"IPKernelApp": {}})
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: kernel))
    real = importlib.util.find_spec

    def without_ipywidgets(name: str, *args: object) -> object:
        return None if name == "ipywidgets" else real(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.util, "find_spec", without_ipywidgets)
    assert _progress._bar_class() is plain
    out = io.StringIO()
    with Progress(total=2, stats=EngineStats(), file=out, interval=0) as bar:  # no warning
        bar.advance()
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object())
    assert _progress._bar_class().__module__ == "tqdm.notebook"
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: None))
    assert _progress._bar_class() is plain  # IPython without a kernel: a terminal
