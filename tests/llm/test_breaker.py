"""The circuit breaker: waits out a failing service, stops after its patience, and never
opens on random faults at soak rates. Tests use an injected clock: nothing sleeps."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from syngen_improve import Improver, Record, improve_dataset, read_jsonl, sample_path
from syngen_improve.llm import (
    BreakerPolicy,
    CircuitBreaker,
    RetryPolicy,
    ServiceUnavailable,
)
from syngen_improve.testing import FakeBackend, FakeConfig

FAST = RetryPolicy(base_delay=0.001, max_delay=0.002)


async def admitted(breaker: CircuitBreaker) -> bool:
    """One request through the breaker, as the engine takes it: admitted, then left."""
    probe = await breaker.admit()
    breaker.leave()
    return probe


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_it_opens_probes_with_backoff_and_closes_on_success() -> None:
    clock = Clock()
    breaker = CircuitBreaker(BreakerPolicy(threshold=3, patience=100, probe_min=1, probe_max=4),
                             clock=clock, sleep=clock.sleep)  # fmt: skip
    for _ in range(2):
        breaker.failure()
    await admitted(breaker)  # still closed: no wait
    assert clock.slept == []
    breaker.failure()
    assert breaker.is_open
    for _ in range(4):
        await admitted(breaker)  # each call is a probe, after a growing wait
        breaker.failure()
    assert clock.slept == [1, 2, 4, 4]
    breaker.success()
    assert not breaker.is_open
    await admitted(breaker)
    assert clock.slept == [1, 2, 4, 4]
    assert breaker.opened == 1


async def test_it_stops_after_its_patience() -> None:
    clock = Clock()
    breaker = CircuitBreaker(BreakerPolicy(threshold=1, patience=10, probe_min=4, probe_max=4),
                             clock=clock, sleep=clock.sleep)  # fmt: skip
    breaker.failure()

    async def keep_failing() -> None:
        for n in range(10):
            await admitted(breaker)
            breaker.failure(f"connection error: refused #{n}")

    with pytest.raises(ServiceUnavailable, match=r"over 10 s .*last: connection error: refused #1"):
        await keep_failing()
    assert clock.now == 12  # three probes, 4 s apart; the third finds patience gone
    assert ServiceUnavailable.exit_code == 75


async def test_refusals_in_a_row_are_the_services_and_stop_the_run() -> None:
    breaker = CircuitBreaker(BreakerPolicy(threshold=3))
    assert breaker.refusal("bad 1") is True  # before any success: cannot blame the example
    breaker.success()
    assert breaker.refusal("bad 2") is False  # amid successes: this example's own problem
    assert breaker.refusal("bad 3") is True  # a second in a row: the service's
    await admitted(breaker)  # two in a row do not stop anything
    assert breaker.refusal("bad 4") is True
    with pytest.raises(ServiceUnavailable, match=r"last 3 requests were all refused .*bad 4"):
        await admitted(breaker)
    assert not breaker.is_open  # nothing to wait for: the run stops at once


async def test_a_success_between_refusals_resets_the_count() -> None:
    breaker = CircuitBreaker(BreakerPolicy(threshold=2))
    breaker.success()
    for _ in range(5):
        assert breaker.refusal("one example's") is False
        breaker.success()
    await admitted(breaker)


def test_a_fresh_breaker_checks_its_policy() -> None:
    with pytest.raises(ValueError, match="'threshold' must be >= 1"):
        BreakerPolicy(threshold=0)


def in_process(config: FakeConfig) -> FakeBackend:
    return FakeBackend(config)  # the fake on a local server, behind the default backend


async def test_soak_rate_faults_never_open_it() -> None:
    examples = [r.data for r in read_jsonl(sample_path()) if isinstance(r, Record)]
    config = FakeConfig(fault_rates={"500": 0.1, "529": 0.05, "drop": 0.05}, seed=11)
    async with in_process(config) as backend, Improver(backend=backend, retry=FAST) as improver:
        outcomes = [o async for o in improver.stream(examples, examples_in_flight=16)]
        assert improver.engine.breaker.opened == 0
    assert sum(o.status == "improved" for o in outcomes) == 120


async def test_a_long_outage_stops_the_run_as_resumable(tmp_path: Path) -> None:
    policy = BreakerPolicy(threshold=5, patience=0.2, probe_min=0.01, probe_max=0.02)
    async with in_process(FakeConfig(fault_rates={"529": 1.0})) as backend:
        with pytest.raises(ServiceUnavailable):
            await improve_dataset(sample_path(), tmp_path, backend=backend, retry=FAST,
                                  breaker=policy, progress=False)  # fmt: skip
    report = (tmp_path / "report.json").read_text()
    assert '"complete": false' in report
    async with in_process(FakeConfig()) as backend:
        result = await improve_dataset(sample_path(), tmp_path, backend=backend, retry=FAST,
                                       progress=False, resume=True)  # fmt: skip
    assert result.counts.improved == 120
    assert result.counts.failed == 0


async def test_before_any_success_no_more_go_out_than_could_still_be_refused() -> None:
    """threshold 3: three requests out, none answered: a fourth waits; each refusal leaves
    room for none (refused + in flight still 3), and the third refusal stops the waiter."""
    breaker = CircuitBreaker(BreakerPolicy(threshold=3))
    for _ in range(3):
        await breaker.admit()
    fourth = asyncio.ensure_future(breaker.admit())
    await asyncio.sleep(0)
    assert not fourth.done()
    for n in range(3):
        breaker.refusal(f"bad {n}")
        breaker.leave()
        await asyncio.sleep(0)
    with pytest.raises(ServiceUnavailable, match="last 3 requests were all refused"):
        await fourth


async def test_after_a_success_requests_are_not_held_back() -> None:
    breaker = CircuitBreaker(BreakerPolicy(threshold=2))
    await admitted(breaker)
    breaker.success()
    for _ in range(10):  # none leaves: after a success, in flight is not counted
        await breaker.admit()


async def test_a_batch_is_not_held_back_before_its_first_answer() -> None:
    breaker = CircuitBreaker(BreakerPolicy(threshold=2))
    for _ in range(10):
        await breaker.admit(gated=False)


async def test_requests_that_reach_no_server_stop_the_run_before_any_success() -> None:
    breaker = CircuitBreaker(BreakerPolicy(unreachable=3))
    for n in range(3):
        await admitted(breaker)
        breaker.failure(f"connect #{n}", unreachable=True)
    with pytest.raises(ServiceUnavailable, match=r"first 3 requests reached no server .*#2"):
        await admitted(breaker)


async def test_after_a_success_unreachable_is_an_outage_to_wait_out() -> None:
    clock = Clock()
    breaker = CircuitBreaker(BreakerPolicy(threshold=50, unreachable=2), clock=clock,
                             sleep=clock.sleep)  # fmt: skip
    breaker.success()
    for _ in range(5):
        await admitted(breaker)
        breaker.failure("restarting", unreachable=True)
    await admitted(breaker)  # not stopped: the server answered before


def test_the_unreachable_count_is_checked() -> None:
    with pytest.raises(ValueError, match="'unreachable' must be >= 1"):
        BreakerPolicy(unreachable=0)


async def test_a_failed_probes_retry_is_not_starved_by_fresh_requests() -> None:
    """Requests waiting for the breaker to close take no room before the first success:
    the failed probe's retry can probe next. (Counted as in flight, they filled the room,
    the retry waited behind them, and every next probe was a fresh request failing its
    first try: the probe backoff grew to minutes — the faults example took 61 s.)"""
    clock = Clock()

    async def probe_wait(seconds: float) -> None:  # as asyncio.sleep: others run meanwhile
        await clock.sleep(seconds)
        await asyncio.sleep(0)

    breaker = CircuitBreaker(BreakerPolicy(threshold=2, probe_min=1, probe_max=30),
                             clock=clock, sleep=probe_wait)  # fmt: skip
    breaker.failure()
    breaker.failure()
    assert breaker.is_open
    first = asyncio.ensure_future(breaker.admit())
    waiting = [asyncio.ensure_future(breaker.admit()) for _ in range(3)]
    assert await asyncio.wait_for(first, 1) is True  # the first probe
    breaker.failure()
    breaker.leave()
    retry = asyncio.ensure_future(breaker.admit())
    assert await asyncio.wait_for(retry, 1) is True  # probes next, without waiting 30 s
    breaker.success()
    breaker.leave()
    await asyncio.wait_for(asyncio.gather(*waiting), 31)  # closed: they go
