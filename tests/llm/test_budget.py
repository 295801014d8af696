"""The spending cap: no request is sent that could take the run past it; the run stops as
resumable and a resume with a higher cap finishes it, nothing lost."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from syngen_improve import improve_dataset, sample_path
from syngen_improve.errors import EXIT_TEMPFAIL, UsageError
from syngen_improve.llm import Budget, BudgetReached, DirectBackend
from syngen_improve.testing import FakeAnthropicServer


async def test_a_budget_holds_worst_cases_and_settles_real_costs() -> None:
    budget = Budget(0.01)
    await budget.reserve(0.004)
    await budget.reserve(0.004)
    third = asyncio.create_task(budget.reserve(0.004))  # three in flight could pass the cap
    await asyncio.sleep(0)
    assert not third.done()  # so it waits for one to settle
    await budget.settle(0.004, 0.0005)
    await third  # the first one cost less than it held
    assert budget.spent == pytest.approx(0.0005)
    assert budget.reserved == pytest.approx(0.008)
    await budget.settle(0.004, 0.004)
    await budget.settle(0.004, 0.004)
    with pytest.raises(BudgetReached, match=r"cap of \$0.0100 is reached") as err:
        await budget.reserve(0.004)  # nothing in flight, and still it does not fit
    assert err.value.exit_code == EXIT_TEMPFAIL
    with pytest.raises(UsageError, match="'max_cost' must be > 0"):
        Budget(0)


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
