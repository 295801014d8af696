"""The spending cap: no request is sent that could take the run past it; the run stops as
resumable and a resume with a higher cap finishes it, nothing lost."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syngen_improve import improve_dataset, sample_path
from syngen_improve.errors import EXIT_TEMPFAIL, UsageError
from syngen_improve.llm import Budget, BudgetReached, DirectBackend
from syngen_improve.testing import FakeAnthropicServer

PICO = 10**12


async def test_a_budget_holds_worst_cases_and_settles_real_costs() -> None:
    budget = Budget(0.01)
    worst = 4 * PICO // 1000  # $0.004
    await budget.reserve(worst)
    await budget.reserve(worst)
    third = asyncio.create_task(budget.reserve(worst))  # three in flight could pass the cap
    await asyncio.sleep(0)
    assert not third.done()  # so it waits for one to settle
    await budget.settle(worst, PICO // 2000)
    await third  # the first one cost less than it held
    assert budget.spent == PICO // 2000
    assert budget.reserved == 2 * worst
    await budget.settle(worst, worst)
    await budget.settle(worst, worst)
    assert (budget.reserved, budget.holds) == (0, 0)
    with pytest.raises(BudgetReached, match=r"cap of \$0.0100 is reached") as err:
        await budget.reserve(worst)  # nothing in flight, and still it does not fit
    assert err.value.exit_code == EXIT_TEMPFAIL
    with pytest.raises(UsageError, match="'max_cost' must be a number of USD > 0"):
        Budget(0)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 10**9), st.integers(0, 10**9)), min_size=1,
                max_size=40), st.floats(1e-4, 1e-2))  # fmt: skip
def test_reservations_settle_to_exactly_zero_and_never_wait_on_nothing(
    requests: list[tuple[int, int]], cap: float
) -> None:
    """Random requests (worst case, real cost <= worst) reserve, run concurrently and settle
    in any order: the holds add up to exactly 0 at the end, and every request either ran
    or was refused with BudgetReached; none is left waiting (the float residue of
    1.7e-18 once held workers forever)."""

    async def scenario() -> tuple[Budget, int, int]:
        budget = Budget(cap)
        ran = refused = 0

        async def one(worst: int, cost: int) -> None:
            nonlocal ran, refused
            try:
                await budget.reserve(worst)
            except BudgetReached:
                refused += 1
                return
            await asyncio.sleep(0)
            await budget.settle(worst, min(cost, worst))
            ran += 1

        async with asyncio.timeout(5):
            await asyncio.gather(*(one(w * 1000, c * 1000) for w, c in requests))
        return budget, ran, refused

    budget, ran, refused = asyncio.run(scenario())
    assert budget.reserved == 0
    assert budget.holds == 0
    assert ran + refused == len(requests)
    assert budget.spent <= budget.limit


async def test_a_run_stops_before_the_cap_and_a_resume_finishes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    async with (
        FakeAnthropicServer() as server,
        DirectBackend(api_key="sk-t", base_url=server.url) as backend,
    ):
        with pytest.raises(BudgetReached):
            await improve_dataset(sample_path(), out, backend=backend, progress=False,
                                  max_cost=0.01, concurrency=4)  # fmt: skip
        stopped = server.counters.requests
        done = await improve_dataset(sample_path(), out, backend=backend, progress=False,
                                     resume=True, max_cost=1.0)  # fmt: skip
    report = done.report.to_dict()
    first = report["run_history"][0]
    assert 0 < first["cost_usd"] <= 0.01
    assert first["interrupted"] is True
    assert stopped == first["requests"]
    assert (done.report.counts.improved, done.report.counts.failed) == (120, 0)


async def test_a_cap_needs_a_known_price() -> None:
    async with DirectBackend(api_key="sk-t", base_url="http://127.0.0.1:9", model="mine") as b:
        with pytest.raises(UsageError, match="a spending cap needs the price of 'mine'"):
            await improve_dataset(sample_path(), "unused-out", backend=b, max_cost=1.0)
