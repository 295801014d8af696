"""The circuit breaker: when the service, not one request, is failing, stop sending.

Service failures are answers that say nothing about the request: no response, a timeout,
a 5xx or 529. After ``threshold`` of them in a row with no success between, the breaker
opens: requests wait instead of being sent (so they do not use up their retries), and one
probe at a time goes out, backing off from ``probe_min`` to ``probe_max`` seconds (a failed
probe costs its request no attempt either). The first answer closes it and everyone goes
on: a short outage is waited out. An outage longer than ``patience`` ends the run with
:class:`ServiceUnavailable` (exit 75, resumable). Random faults at soak rates (10-20%)
practically never make ``threshold`` failures in a row (20 at 20%: about 1 in 10^14). The
clock and the sleep are injectable, so tests of the breaker do not wait.

A refusal (400: the request is invalid) usually concerns one example (a prompt too long),
but when every request gets one the requests, not the examples, are at fault: a proxy or
base URL that does not speak this API, a setting it rejects. So refusals are counted too:
one that follows another refusal, or comes before any success, is the service's failure
(the example is retried on resume), and ``threshold`` refusals in a row with no success
between stop the run with :class:`ServiceUnavailable` at once (waiting would not help).
The engine stops it the same way (:meth:`CircuitBreaker.stop`) when the server says no
request can be served within the patience (its rate-limit headers).

Until the first success, that decision is taken where a request is admitted: no more
requests go out than could still be refused before the stop (``threshold`` minus the
refusals so far, counting those in flight), so a small run whose every request is
refused stops after ``threshold`` of them, not after sending all it had queued. And a
request that never reached a server (nothing listening, a name that does not resolve:
a setting, not an outage) stops the run before the first success too: ``unreachable`` (3)
in a row, within seconds, instead of waiting out the patience.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import ClassVar

from ..errors import EXIT_TEMPFAIL, SyngenError, UsageError, option

__all__ = ["BreakerPolicy", "CircuitBreaker", "ServiceUnavailable", "is_service_failure"]


class ServiceUnavailable(SyngenError):
    """The service kept failing for longer than the breaker's patience; resumable."""

    exit_code: ClassVar[int] = EXIT_TEMPFAIL


def is_service_failure(status: int | None) -> bool:
    """No response, a timeout, a 5xx or 529: the service failed, not the request."""
    return status is None or status == 408 or status >= 500


@dataclass(frozen=True)
class BreakerPolicy:
    """When the breaker opens (``threshold`` service failures in a row), how it probes,
    and how long it waits for the service (``patience`` seconds) before the run stops;
    ``unreachable``: requests in a row that reach no server, before any answer, that stop
    the run at once (nothing listening is a setting, not an outage)."""

    threshold: int = 20
    patience: float = 300.0
    probe_min: float = 1.0
    probe_max: float = 30.0
    unreachable: int = 3

    def __post_init__(self) -> None:
        for name in ("threshold", "unreachable"):
            if getattr(self, name) < 1:
                raise UsageError(f"{name!r} must be >= 1, got {getattr(self, name)}")
        for name in ("patience", "probe_min", "probe_max"):
            if getattr(self, name) <= 0:
                raise UsageError(f"{name!r} must be > 0, got {getattr(self, name)}")


class CircuitBreaker:
    """Shared by every request of a run (see the module docstring)."""

    def __init__(
        self,
        policy: BreakerPolicy | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.policy = policy or BreakerPolicy()
        self._clock, self._sleep = clock, sleep
        self._failures = 0
        self._opened_at: float | None = None
        self._closed = asyncio.Event()
        self._closed.set()
        self._probing = False
        self._probe_wait = self.policy.probe_min
        self.opened = 0  # times the breaker opened (for stats and tests)
        self._succeeded = False
        self._refusals = 0
        self._stopped: str | None = None  # why every request from now on is refused
        self._last_failure = ""
        self._unreachable = 0  # requests that reached no server, before any success
        self._in_flight = 0  # admitted and not yet left (see the module docstring)
        self._room = asyncio.Event()  # set when one leaves, or the run stops

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None

    def success(self) -> None:
        self._answered()
        self._succeeded = True
        self._refusals = 0

    def _answered(self) -> None:
        """The service answered: it is up."""
        self._failures = 0
        if self._opened_at is not None:
            self._opened_at = None
            self._probe_wait = self.policy.probe_min
            self._closed.set()

    def failure(self, detail: str = "", *, unreachable: bool = False) -> None:
        """A service failure (``detail``: what happened, redacted; said if the run stops;
        ``unreachable``: the request reached no server)."""
        self._last_failure = detail or self._last_failure
        self._failures += 1
        if unreachable and not self._succeeded:
            self._unreachable += 1
            if self._unreachable >= self.policy.unreachable:
                self.stop(
                    f"the first {self._unreachable} requests reached no server (last: "
                    f"{detail}): stopped; check the base URL and that the server runs, then "
                    f"rerun with {option('--resume', 'resume=True')}"
                )
        else:
            self._unreachable = 0
        if self._opened_at is None and self._failures >= self.policy.threshold:
            self._opened_at = self._clock()
            self.opened += 1
            self._closed.clear()

    def refusal(self, detail: str) -> bool:
        """A request was refused as invalid (``detail``: the server's message, redacted).
        Returns whether that is the service's failure rather than the example's (see the
        module docstring)."""
        self._answered()
        self._refusals += 1
        if self._refusals >= self.policy.threshold:
            self.stop(
                f"the last {self.policy.threshold} requests were all refused as invalid "
                f"(last: {detail}): the requests, not the examples, are at fault "
                "(a base URL or proxy that does not speak this API, a model or setting it "
                f"rejects); stopped; fix that and rerun with {option('--resume', 'resume=True')}"
            )
        return self._refusals > 1 or not self._succeeded

    def stop(self, message: str) -> None:
        """Send nothing more: every request from now on raises :class:`ServiceUnavailable`
        with ``message`` (the first reason given stays)."""
        if self._stopped is None:
            self._stopped = message
        self._room.set()  # requests waiting for room learn it at once

    def check_stopped(self) -> None:
        """Raise :class:`ServiceUnavailable` once the run was stopped (see :meth:`stop`)."""
        if self._stopped is not None:
            raise ServiceUnavailable(self._stopped)

    async def admit(self, *, gated: bool = True) -> bool:
        """Return when a request may be sent: at once while closed; while open, when it
        is this request's turn to probe (returns True) or the breaker closed; before the
        first success, when there is room (``gated``; not for batches, whose requests wait
        together). Each admitted request must :meth:`leave`. Raises
        :class:`ServiceUnavailable` once the service has been failing beyond patience, or
        has refused every request."""
        self.check_stopped()
        # Requests waiting for the breaker to close are not in flight: the room is looked
        # for once a request may go (a failed probe's retry would otherwise wait behind
        # fresh requests, each a probe that fails).
        while True:
            probe = await self._closed_or_probe()
            if not gated or self._succeeded or self._in_flight < self._room_left():
                break
            self._room.clear()
            await self._room.wait()
            self.check_stopped()
        self._in_flight += 1
        return probe

    def _room_left(self) -> int:
        """Requests that may be in flight before the first success: as many as could
        still be refused before the refusal stop."""
        return self.policy.threshold - self._refusals

    def leave(self) -> None:
        """An admitted request ended (answered, failed or cancelled)."""
        self._in_flight -= 1
        self._room.set()

    async def _closed_or_probe(self) -> bool:
        while self._opened_at is not None:
            self._check_patience()
            if not self._probing:
                self._probing = True
                try:
                    await self._sleep(self._probe_wait)
                    self._check_patience()
                finally:
                    self._probing = False
                self._probe_wait = min(self.policy.probe_max, self._probe_wait * 2)
                return True  # this request is the probe
            waiter = asyncio.ensure_future(self._closed.wait())
            try:
                await asyncio.wait({waiter}, timeout=self.policy.probe_max)
            finally:
                waiter.cancel()
        return False

    def _check_patience(self) -> None:
        if self._opened_at is not None and self._clock() - self._opened_at > self.policy.patience:
            last = f"; last: {self._last_failure}" if self._last_failure else ""
            raise ServiceUnavailable(
                f"the service failed every request for over {self.policy.patience:g} s "
                f"(connection errors, timeouts, 5xx{last}): stopped; check the base URL if "
                f"it never answered, and rerun with {option('--resume', 'resume=True')} when "
                "it is back"
            )
