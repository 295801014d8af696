"""The progress bar's counters and its off switch."""

from __future__ import annotations

import io

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
