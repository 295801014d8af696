"""A spending cap: requests are refused before the run's cost could pass it."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from ..errors import EXIT_TEMPFAIL, SyngenError, UsageError, option
from ._pricing import PICO, usd

__all__ = ["Budget", "BudgetReached"]


class BudgetReached(SyngenError):
    """The next request could take the run past its spending cap: the run stops before
    sending it, resumable (a resume with a higher ``--max-cost`` goes on)."""

    exit_code: ClassVar[int] = EXIT_TEMPFAIL


class Budget:
    """``max_usd`` for one run. Each request reserves its worst case (its input, a cache
    write of its prefix, ``max_tokens`` of output) before it is sent and is settled at its
    real cost when it is answered, so the requests in flight can never take the spend past
    the cap together. A request that does not fit waits for those in flight to settle
    (their answers are kept); when nothing is in flight and it still does not fit, the run
    is over. All sums are whole picodollars (:data:`~._pricing.PICO` to the dollar), so the
    holds of settled requests add up to exactly zero: a request waits only while another
    one is really in flight."""

    def __init__(self, max_usd: float) -> None:
        if (
            isinstance(max_usd, bool)
            or not isinstance(max_usd, int | float)
            or not max_usd > 0
            or max_usd == float("inf")
        ):
            raise UsageError(f"'max_cost' must be a number of USD > 0, got {max_usd!r}")
        self.max_usd = float(max_usd)
        self.limit = round(max_usd * PICO)
        self.spent = 0
        self.reserved = 0
        self.holds = 0
        self._settled = asyncio.Condition()

    async def reserve(self, worst: int) -> None:
        """Hold ``worst`` picodollars for a request, once it fits under the cap;
        :class:`BudgetReached` when it cannot fit even with nothing in flight."""
        async with self._settled:
            while self.spent + self.reserved + worst > self.limit and self.holds > 0:
                await self._settled.wait()
            self._check(worst)
            self.reserved += worst
            self.holds += 1

    def _check(self, worst: int) -> None:
        if self.spent + self.reserved + worst > self.limit:
            raise BudgetReached(
                f"the spending cap of ${self.max_usd:.4f} is reached: ${usd(self.spent):.4f} "
                f"spent, ${usd(self.reserved):.4f} held by requests in flight, and the next "
                f"request may cost up to ${usd(worst):.4f}; the run stops here (resumable: run "
                f"again with {option('--resume', 'resume=True')} and a higher "
                f"{option('--max-cost', 'max_cost=')})"
            )

    async def settle(self, worst: int, actual: int) -> None:
        """Release a request's hold; ``actual`` is what it cost in picodollars (0 when
        it failed)."""
        async with self._settled:
            self.reserved -= worst
            self.holds -= 1
            self.spent += actual
            self._settled.notify_all()
