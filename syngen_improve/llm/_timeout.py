"""How long one attempt may take: the policy's fixed timeout, or one learned from the
latencies seen (see :class:`~._retry.RetryPolicy`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator

from ._retry import RetryPolicy

__all__ = ["AttemptTimer", "Cut"]

#: Replies the adaptive timeout learns from (the most recent), and how many it needs first.
_LATENCY_WINDOW = 512
_MIN_SAMPLES = 32


class Cut(Exception):
    """An attempt that hit its time limit (``waited`` seconds)."""

    def __init__(self, waited: float) -> None:
        super().__init__(waited)
        self.waited = waited


class AttemptTimer:
    """The time limit of every attempt of a run. ``floor``: a backend's own minimum (a
    batch's answer can take hours), which outranks the policy and is never adapted."""

    def __init__(self, policy: RetryPolicy, *, floor: float = 0.0) -> None:
        self.policy = policy
        self.ceiling = max(policy.ceiling, floor)
        self._adapt = policy.adaptive and not floor
        self._latencies: deque[float] = deque(maxlen=_LATENCY_WINDOW)
        self._adapted: float | None = None
        self._seen = 0
        # Attempts in flight: their timeout -> when they were sent (loop time), their cuts.
        self._inflight: dict[asyncio.Timeout, tuple[float, int]] = {}

    @property
    def current(self) -> float:
        """Seconds the next attempt may take: the ceiling, or once enough replies were seen
        (and the policy adapts), a multiple of their 99th percentile."""
        return self._adapted if self._adapted is not None else self.ceiling

    @contextlib.asynccontextmanager
    async def limit(self, cuts: int) -> AsyncIterator[None]:
        """Run the block within the attempt's limit (doubled for each earlier cut of its
        request: a long reply still lands); :class:`Cut` when it runs out. A block that
        finishes in time is learned from."""
        loop = asyncio.get_running_loop()
        limit = min(self.current * 2**cuts, self.ceiling)
        started = loop.time()
        try:
            async with asyncio.timeout(limit) as cm:
                self._inflight[cm] = (started, cuts)
                try:
                    yield
                finally:
                    del self._inflight[cm]
        except TimeoutError:
            raise Cut((cm.when() or started + limit) - started) from None
        self._observe(loop.time() - started)

    def _observe(self, seconds: float) -> None:
        if not self._adapt:
            return
        self._latencies.append(seconds)
        self._seen += 1
        if self._seen >= _MIN_SAMPLES and self._seen % 16 == 0:  # a sort every 16 replies
            ordered = sorted(self._latencies)
            p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
            p = self.policy
            adapted = min(self.ceiling, max(p.min_timeout, p99 * p.timeout_factor))
            # Only a big change is worth moving every deadline in flight (the first limit
            # learned replaces the ceiling; later ones drift by a few percent).
            if self._adapted is None or adapted < 0.5 * self._adapted:
                self._shorten_inflight(adapted)
            self._adapted = adapted

    def _shorten_inflight(self, limit: float) -> None:
        """Bring in the deadlines of the attempts in flight to a new, shorter limit: the
        first wave of a run is sent before any latency is known, and a hung request in it
        would otherwise hold its worker for the whole ceiling."""
        now = asyncio.get_running_loop().time()
        for cm, (sent, cuts) in self._inflight.items():
            deadline = sent + min(limit * 2**cuts, self.ceiling)
            current = cm.when()
            if current is None or deadline < current:
                cm.reschedule(max(deadline, now))
