"""What the engine reports: a request that did not succeed (:class:`RequestFailed`) and
the running totals of a run (:class:`EngineStats`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ServiceRefused, SyngenError
from ._backend import BackendError, Request
from ._pricing import Usage, usd

__all__ = ["FATAL_STATUSES", "TRANSIENT_STATUSES", "EngineStats", "RequestFailed", "strict_refusal"]

#: Statuses that will fail the same way for every request of the run (bad key,
#: no permission, unknown model): the run stops instead of failing each example.
FATAL_STATUSES = frozenset({401, 403, 404}) | frozenset(range(300, 400))
#: Statuses that say the service, not the request, failed: the request may succeed later.
TRANSIENT_STATUSES = frozenset({408, 409, 429}) | frozenset(range(500, 600))


class RequestFailed(SyngenError):
    """A request that did not succeed within the retry policy.

    ``transient`` says the service, not the request, failed, so the same request may
    succeed later: no response, a timeout, a 5xx, 408/409/429, a retry-after too long to
    wait, or a refusal (400) that other requests got too (see the circuit breaker).
    ``strict_refused``: a 400 for a request with a strict tool whose message is about its
    schema or grammar (the same request without ``strict`` may pass).
    """

    def __init__(
        self,
        error: BackendError,
        *,
        attempts: int,
        transient: bool = False,
        strict_refused: bool = False,
    ) -> None:
        super().__init__(f"gave up after {attempts} attempt(s): {error}")
        self.error = error
        self.attempts = attempts
        self.transient = transient
        self.strict_refused = strict_refused

    @property
    def status(self) -> int | None:
        return self.error.status

    def refused_run(self) -> ServiceRefused:
        """The error that stops a run this failure refused as a whole (see :attr:`fatal`)."""
        # Its own text (args[0]), not str(self): the options stay in both spellings.
        return ServiceRefused(f"the API refused the run: {self.args[0]}", status=self.status)

    @property
    def fatal(self) -> bool:
        """True when every other request would fail the same way (401, 403, 404, and a
        redirect: a base URL that points elsewhere)."""
        return self.error.status in FATAL_STATUSES


@dataclass
class EngineStats:
    """Running totals of a run (all attempts, not just the last)."""

    #: Requests whose bytes went out (what the server saw); ``cancelled``: attempts
    #: stopped (Ctrl-C, a stop) before they were sent.
    requests: int = 0
    cancelled: int = 0
    #: Answers read from the response cache instead (no request, no cost).
    cached: int = 0
    #: Requests admitted and not answered yet (the panel's "in flight").
    in_flight: int = 0
    succeeded: int = 0
    failed: int = 0
    retried: int = 0
    rate_limited: int = 0
    timeouts: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    usage: Usage = field(default_factory=Usage)
    #: The cost in whole picodollars (see ``_pricing``); ``priced`` is false when the
    #: model's price is unknown (the cost is then unknown, never $0).
    cost_picos: int = 0
    priced: bool = True
    #: Until when (``time.monotonic()``) every worker is held for the account's rate
    #: limit (the panel shows it).
    held_until: float = 0.0
    #: Answers that carried a thinking block, and their thinking tokens as measured
    #: (output tokens less the local count of the rest of the answer).
    thinking_replies: int = 0
    thinking_tokens: int = 0

    @property
    def cost_usd(self) -> float:
        """The cost in USD (0.0 when unknown: see ``priced``)."""
        return usd(self.cost_picos)

    def absorb(self, other: EngineStats) -> None:
        """Add ``other``'s totals (a second engine of the same run, e.g. online re-asks)."""
        for name in (
            "requests",
            "cancelled",
            "cached",
            "succeeded",
            "failed",
            "retried",
            "rate_limited",
            "timeouts",
            "thinking_replies",
            "thinking_tokens",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.by_status.update(other.by_status)
        self.usage = self.usage + other.usage
        self.cost_picos += other.cost_picos
        self.priced = self.priced and other.priced

    def to_state(self) -> dict[str, Any]:
        """Every total as JSON (for :meth:`from_state` in another process: a Ray worker's
        totals read by ``finish``); what is in flight now is not a total."""
        out = {
            name: getattr(self, name)
            for name in self.__dataclass_fields__
            if name not in ("by_status", "usage", "in_flight", "held_until")
        }
        out["by_status"] = {str(k): v for k, v in self.by_status.items()}
        u = self.usage
        out["usage"] = [u.input, u.output, u.cache_read, u.cache_creation]
        return out

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> EngineStats:
        """The totals :meth:`to_state` wrote."""
        fields = {k: v for k, v in state.items() if k not in ("by_status", "usage")}
        stats = cls(**fields)
        stats.by_status = Counter({int(k): int(v) for k, v in state["by_status"].items()})
        stats.usage = Usage(*state["usage"])
        return stats

    def to_dict(self) -> dict[str, Any]:
        """The report's ``requests`` / ``tokens`` / ``cost_usd`` figures."""
        u = self.usage
        return {
            "requests": {
                "total": self.requests,
                "cancelled": self.cancelled,
                "cached": self.cached,
                "succeeded": self.succeeded,
                "failed": self.failed,
                "retried": self.retried,
                "rate_limited": self.rate_limited,
                "timeouts": self.timeouts,
                "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            },
            "tokens": {
                "input": u.input,
                "output": u.output,
                "cache_read": u.cache_read,
                "cache_creation": u.cache_creation,
            },
            "cost_usd": round(self.cost_usd, 6) if self.priced else None,
        }


def strict_refusal(request: Request, error: BackendError) -> bool:
    """A 400 for a request with a strict tool that is about its schema or grammar (the
    API compiles strict schemas into a grammar and refuses one too large)."""
    if not any(t.get("strict") is True for t in request.tools):
        return False
    text = str(error).lower()
    return any(word in text for word in ("grammar", "strict", "schema"))
