"""Client-side rate limits: requests, input tokens and output tokens per minute.

Three aiolimiter buckets. A requests limit you set starts with ``burst`` (a tenth) of the
minute's allowance available and refills continuously, so a sliding-window or token-bucket
server sees a smooth rate instead of a minute's worth at once followed by a stall; token
limits start full (one large request must not wait at start), and a limit learned from the
headers starts from what the server says remains. Input tokens are estimated before the
call and settled against the reply's usage; output tokens are reserved up to
``max_tokens`` and the unused part is given back. Every response's
``anthropic-ratelimit-*`` headers tighten the buckets when the server has less left than
we think (another client on the same key, a lower tier), and a limit the user did not
set is learned from them. A 429 pauses every worker only when its headers say a bucket
cannot serve the request (requests remaining 0, or fewer tokens remaining than the
request needs), until that bucket's reset; any other 429 (random, or from a proxy without
headers) backs off the request that got it alone: pausing everyone for it would throw
capacity away.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from dataclasses import dataclass

from aiolimiter import AsyncLimiter

from ..errors import UsageError
from ._pricing import Usage
from ._retry import seconds_until

__all__ = ["RateLimiter", "RateLimits", "exhausted_for", "starved"]

#: Bucket name -> the header infix the API uses for it.
_HEADER_NAMES = {"requests": "requests", "input": "input-tokens", "output": "output-tokens"}


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Per-minute limits; ``None`` means "learn it from the server's headers". ``burst``
    is the share of a set limit available at once when the run starts (the rest comes at
    the limit's rate); 1.0 starts with the whole minute."""

    rpm: float | None = None
    input_tpm: float | None = None
    output_tpm: float | None = None
    burst: float = 0.1

    def __post_init__(self) -> None:
        for name in ("rpm", "input_tpm", "output_tpm"):
            value = getattr(self, name)
            if value is not None and not value >= 1:
                raise UsageError(f"{name!r} must be at least 1 (a count per minute), got {value}")
        if not 0 < self.burst <= 1:
            raise UsageError(f"'burst' must be in (0, 1], got {self.burst}")


class _Bucket(AsyncLimiter):
    """An aiolimiter bucket that can also take without waiting, give back, and be
    told the server's view."""

    def take(self, amount: float) -> None:
        """Count ``amount`` as used now (may go over the limit: later calls wait)."""
        self._leak()
        self._level += amount

    def give_back(self, amount: float) -> None:
        """Return capacity that was reserved but not used."""
        if amount <= 0:
            return
        self._leak()
        self._level = max(0.0, self._level - amount)
        self._wake_next()

    def observe(self, limit: float | None, remaining: float) -> None:
        """Adopt a lower server limit, and count as used what the server has used (at most
        the whole bucket, so a lying header cannot hold the workers beyond one period)."""
        if limit is not None and 1 <= limit < self.max_rate:
            self.max_rate = limit
            self._rate_per_sec = limit / self.time_period
        self._leak()
        used = self.max_rate - min(max(remaining, 0.0), self.max_rate)
        if used > self._level:
            self._level = used

    async def reserve(self, amount: float) -> float:
        """Wait for ``amount`` (capped at the bucket size) and return what was taken."""
        amount = min(amount, self.max_rate)
        await self.acquire(amount)
        return amount


def _number(headers: Mapping[str, str], name: str) -> float | None:
    """A header's number; ``None`` when absent, unreadable, negative, NaN or infinite."""
    value = headers.get(name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


@dataclass(frozen=True, slots=True)
class Starved:
    """A bucket the server's headers say cannot serve one request until ``wait`` seconds
    from now: none left (``remaining``), or a ``limit`` below what one request needs."""

    bucket: str
    wait: float
    need: float
    limit: float | None
    remaining: float | None

    @property
    def below_need(self) -> bool:
        """The limit itself is below one request: no pacing can ever serve it."""
        return self.limit is not None and self.limit < self.need

    def describe(self) -> str:
        what = {"requests": "requests", "input": "input tokens", "output": "output tokens"}
        name = what[self.bucket]
        if self.below_need:
            return (
                f"a limit of {self.limit:g} {name} a minute, less than one request needs "
                f"({self.need:g})"
            )
        return f"{self.remaining:g} {name} left where one request needs {self.need:g}"


def starved(headers: Mapping[str, str], *, need: Mapping[str, float]) -> list[Starved]:
    """The buckets a reply's headers say cannot serve one request needing ``need``
    (``requests``/``input``/``output`` amounts), each with the seconds until its reset (0
    when the headers give no time)."""
    out: list[Starved] = []
    for name, infix in _HEADER_NAMES.items():
        want = max(1.0, need.get(name, 1.0))
        limit = _number(headers, f"anthropic-ratelimit-{infix}-limit")
        remaining = _number(headers, f"anthropic-ratelimit-{infix}-remaining")
        if (limit is None or limit >= want) and (remaining is None or remaining >= want):
            continue
        value = headers.get(f"anthropic-ratelimit-{infix}-reset")
        wait = (seconds_until(value) if value else None) or 0.0
        out.append(Starved(name, wait, want, limit, remaining))
    return out


def exhausted_for(headers: Mapping[str, str], *, need: Mapping[str, float]) -> float | None:
    """When a 429's headers say a bucket cannot serve a request needing ``need``, the
    seconds until that bucket resets (the longest such; 0 if the headers give no time);
    ``None`` when they do not say so."""
    found = starved(headers, need=need)
    return max(s.wait for s in found) if found else None


class RateLimiter:
    """Shared by all workers of a run; see the module docstring."""

    def __init__(self, limits: RateLimits | None = None, *, adaptive: bool = True) -> None:
        limits = limits or RateLimits()
        self.adaptive = adaptive
        self._buckets: dict[str, _Bucket] = {}
        for name, value in (
            ("requests", limits.rpm),
            ("input", limits.input_tpm),
            ("output", limits.output_tpm),
        ):
            if value is not None:
                bucket = self._buckets[name] = _Bucket(value, 60)
                if name == "requests":  # at least a second's worth: the first never waits
                    bucket.take(value - max(value * limits.burst, value / 60, 1.0))
        self._paused_until = 0.0
        self.pauses = 0

    def limit(self, name: str) -> float | None:
        """The current per-minute limit of bucket ``requests``, ``input`` or ``output``."""
        bucket = self._buckets.get(name)
        return bucket.max_rate if bucket is not None else None

    async def wait_pause(self) -> None:
        """Return once no server-requested pause is in force."""
        loop = asyncio.get_running_loop()
        while (left := self._paused_until - loop.time()) > 0:
            await asyncio.sleep(left)

    def pause(self, seconds: float) -> None:
        """Hold every worker for ``seconds`` from now (extends, never shortens, a pause)."""
        until = asyncio.get_running_loop().time() + seconds
        if until > self._paused_until:
            self._paused_until = until
            self.pauses += 1

    async def acquire(self, input_tokens: float, max_tokens: float) -> tuple[float, float]:
        """Wait until a request of this size may go; returns the (input, output)
        amounts reserved, to hand back to :meth:`settle`."""
        await self.wait_pause()
        b = self._buckets
        if "requests" in b:
            await b["requests"].acquire()
        taken_in = await b["input"].reserve(input_tokens) if "input" in b else 0.0
        taken_out = await b["output"].reserve(max_tokens) if "output" in b else 0.0
        await self.wait_pause()  # a 429 may have arrived while we waited
        return taken_in, taken_out

    def settle(self, reserved: tuple[float, float], usage: Usage | None) -> None:
        """Correct the reservations once the reply (or failure, ``usage=None``) is in."""
        taken_in, taken_out = reserved
        used_in = 0.0 if usage is None else float(usage.input + usage.cache_creation)
        used_out = 0.0 if usage is None else float(usage.output)
        for name, taken, used in (("input", taken_in, used_in), ("output", taken_out, used_out)):
            bucket = self._buckets.get(name)
            if bucket is None:
                continue
            if used > taken:
                bucket.take(used - taken)
            else:
                bucket.give_back(taken - used)

    def observe(
        self, headers: Mapping[str, str], *, need: Mapping[str, float] | None = None
    ) -> None:
        """Read ``anthropic-ratelimit-<kind>-limit/-remaining`` from a response. A limit
        below 1 a minute, or below what one request needs (``need``), is not learned: no
        pacing serves it (the engine waits for the reset or stops, see :func:`starved`)."""
        if not self.adaptive or not headers:
            return
        for name, infix in _HEADER_NAMES.items():
            remaining = _number(headers, f"anthropic-ratelimit-{infix}-remaining")
            if remaining is None:
                continue
            limit = _number(headers, f"anthropic-ratelimit-{infix}-limit")
            if limit is not None and limit < max(1.0, (need or {}).get(name, 1.0)):
                continue
            bucket = self._buckets.get(name)
            if bucket is None:
                if limit is None:
                    continue
                bucket = self._buckets[name] = _Bucket(limit, 60)
            bucket.observe(limit, remaining)
