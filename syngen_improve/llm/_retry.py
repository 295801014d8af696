"""The retry policy: which failures are retried, how long to wait, when to give up.

One object owns retries for the whole engine (the SDK's own retries are turned
off), so attempts are never multiplied. Backoff is exponential with full jitter;
a server's ``retry-after`` / ``retry-after-ms`` is honoured as the minimum wait.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from ..errors import UsageError

__all__ = ["RetryPolicy", "parse_retry_after", "seconds_until"]

#: The longest ``retry-after`` read (seconds): a larger value, or ``inf``, is read as this.
#: The engine waits one out only within the run's patience (``--patience``); a longer one
#: ends the request as the service's failure at once, so no header can hang a run.
MAX_RETRY_AFTER = 86400.0
#: Statuses worth another try: timeout, conflict, rate limit, server errors, overloaded.
RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


def parse_retry_after(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP
    date), at most :data:`MAX_RETRY_AFTER`; ``None`` when absent, unreadable or NaN.
    Header names are matched case-insensitively."""
    seconds = _retry_after(headers, now=now)
    if seconds is None or math.isnan(seconds):
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


def _retry_after(headers: Mapping[str, str], *, now: datetime | None) -> float | None:
    lowered = {k.lower(): v for k, v in headers.items()}
    ms = lowered.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    return seconds_until(value, now=now)


def seconds_until(value: str, *, now: datetime | None = None) -> float | None:
    """Seconds from ``now`` until a time written as an HTTP date or RFC 3339 (0 when
    past), or ``None`` when ``value`` is neither."""
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """When and how to retry a failed request, and how long one attempt may take.

    ``max_attempts`` counts HTTP tries, the first included. Without ``timeout`` (the
    default) an attempt is cut at ``timeout_factor`` x the 99th percentile of the run's
    observed latencies, never below ``min_timeout`` nor above ``max_timeout``: a hung
    request costs a few typical latencies, not two minutes; a request that was cut gets
    twice the time on its next attempt (up to ``max_timeout``), so a reply that is merely
    long still arrives. ``timeout`` (``--timeout``) fixes the seconds per attempt instead.
    Client errors (400, 401, 403, 404, 413, ...) are never retried.
    """

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 60.0
    timeout: float | None = None
    max_timeout: float = 120.0
    min_timeout: float = 2.0
    timeout_factor: float = 4.0
    retry_statuses: frozenset[int] = field(default=RETRYABLE_STATUSES)

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int):
            raise UsageError(f"'max_attempts' must be a whole number, got {self.max_attempts!r}")
        if self.max_attempts < 1:
            raise UsageError(f"'max_attempts' must be >= 1, got {self.max_attempts}")
        for name in (
            "base_delay",
            "max_delay",
            "timeout",
            "max_timeout",
            "min_timeout",
            "timeout_factor",
        ):
            value = getattr(self, name)
            if name == "timeout" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise UsageError(f"{name!r} must be a number > 0, got {value!r}")
        statuses = self.retry_statuses
        if not isinstance(statuses, frozenset) or not all(isinstance(c, int) for c in statuses):
            raise UsageError(
                f"'retry_statuses' must be a frozenset of HTTP statuses, got {statuses!r}"
            )
        if self.max_delay < self.base_delay:
            raise UsageError("'max_delay' must be >= 'base_delay'")

    @property
    def adaptive(self) -> bool:
        """Whether attempts are cut at a multiple of the latencies seen (no ``timeout``)."""
        return self.timeout is None

    @property
    def ceiling(self) -> float:
        """The most seconds one attempt may take: ``timeout``, else ``max_timeout``."""
        return self.timeout if self.timeout is not None else self.max_timeout

    def is_retryable(self, status: int | None) -> bool:
        """True for a retryable HTTP status, and for ``None`` (a connection error or
        timeout: no response at all)."""
        return status is None or status in self.retry_statuses

    def should_retry(self, attempt: int, status: int | None) -> bool:
        """Whether attempt number ``attempt`` (1-based), which failed with ``status``,
        gets another try."""
        return attempt < self.max_attempts and self.is_retryable(status)

    def delay(
        self, attempt: int, *, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait after failed attempt ``attempt``: full jitter over an
        exponentially growing cap, never less than the server's ``retry-after``."""
        if attempt < 1:
            raise ValueError(f"'attempt' must be >= 1, got {attempt}")
        cap = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        wait = (rng or random).uniform(0, cap)
        if retry_after is not None:
            wait = max(wait, retry_after)
        return wait
