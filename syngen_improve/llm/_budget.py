"""A spending cap: requests are refused before the run's cost could pass it."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from ..errors import EXIT_TEMPFAIL, SyngenError, UsageError, option

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
    is over."""

    def __init__(self, max_usd: float) -> None:
        if isinstance(max_usd, bool) or not isinstance(max_usd, int | float) or max_usd <= 0:
            raise UsageError(f"'max_cost' must be > 0, got {max_usd!r}")
        self.max_usd = float(max_usd)
        self.spent = 0.0
        self.reserved = 0.0
        self._settled = asyncio.Condition()

    async def reserve(self, worst: float) -> None:
        """Hold ``worst`` dollars for a request, once it fits under the cap;
        :class:`BudgetReached` when it cannot fit even with nothing in flight."""
        async with self._settled:
            while self.spent + self.reserved + worst > self.max_usd and self.reserved > 0:
                await self._settled.wait()
            self._check(worst)
            self.reserved += worst

    def _check(self, worst: float) -> None:
        if self.spent + self.reserved + worst > self.max_usd:
            raise BudgetReached(
                f"the spending cap of ${self.max_usd:.4f} is reached: ${self.spent:.4f} spent, "
                f"${self.reserved:.4f} held by requests in flight, and the next request may "
                f"cost up to ${worst:.4f}; the run stops here (resumable: run again with "
                f"{option('--resume', 'resume=True')} and a higher "
                f"{option('--max-cost', 'max_cost=')})"
            )

    async def settle(self, worst: float, actual: float) -> None:
        """Release a request's hold; ``actual`` is what it cost (0 when it failed)."""
        async with self._settled:
            self.reserved = max(0.0, self.reserved - worst)
            self.spent += actual
            self._settled.notify_all()
