"""The live panel of a long run: a progress bar over the input lines, then the figures most
worth seeing first (what became of the lines, the cost so far and its projection), then the
rest (requests in flight, retries, answers from the cache, tokens per minute over the last
minute: input, cache reads and output apart, so that input compares with ``--tpm``).

The line is laid out for 100 columns: the bar, the lines done, the ETA, the counts, the cost
and its projection fit there; a narrower terminal cuts the end. tqdm draws it. In a terminal
it is one line rewritten in place; in a notebook it is a widget when ``ipywidgets`` is
installed (the ``notebook`` extra) and otherwise the same one text line (never tqdm's
"IProgress not found" warning). The counters are rebuilt at most every ``interval``
seconds, so a fast run does not spend its CPU drawing.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Any, Final

from tqdm.std import tqdm

from .llm._stats import EngineStats

__all__ = ["OUTCOMES", "Progress"]

#: What an input line can become, as the panel counts it.
OUTCOMES: Final = ("improved", "failed", "good", "quarantined")
#: Shorter names on the panel.
_LABELS: Final = {"quarantined": "quar"}
#: The line with a known total (a fixed 10-column bar first: it never shrinks to nothing)
#: and without one. tqdm puts ", " before the postfix.
_FORMAT: Final = "|{bar:10}| {n_fmt}/{total_fmt} eta {remaining}{postfix}"
#: From this many lines on, counts are shown to three figures (``420k``, ``1.05M``).
_BIG: Final = 100_000
_FORMAT_OPEN: Final = "{n_fmt} lines [{elapsed}]{postfix}"
#: Seconds over which tokens per minute are measured.
_RATE_WINDOW: Final = 60.0


def _bar_class() -> type[tqdm]:  # type: ignore[type-arg]
    """tqdm's notebook widget inside a Jupyter kernel with ipywidgets; the plain bar
    everywhere else (in a kernel without ipywidgets: one text line, no warning)."""
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)() if ipython else None
    if shell is None or "IPKernelApp" not in getattr(shell, "config", {}):
        return tqdm
    if importlib.util.find_spec("ipywidgets") is None:
        return tqdm
    from tqdm.notebook import tqdm as widget

    return widget


class Progress:
    """A progress bar over a run's items; ``enabled=False`` makes every call a no-op."""

    def __init__(
        self,
        *,
        total: int | None,
        stats: EngineStats,
        enabled: bool = True,
        desc: str = "improving",
        outcomes: tuple[str, ...] = OUTCOMES,
        interval: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        **tqdm_kwargs: Any,
    ) -> None:
        self.stats = stats
        self.enabled = enabled
        self.done = 0
        #: Input lines by what became of them (:data:`OUTCOMES` for a run).
        self.counts = dict.fromkeys(outcomes, 0)
        self._interval = interval
        self._next = 0.0
        self._clock = clock
        #: (time, input and cache writes, cache reads, output) as the panel saw them: the
        #: oldest kept is the newest one at least a rate window old.
        self._seen: deque[tuple[float, int, int, int]] = deque([self._tokens(clock())])
        self.total = total
        self._bar = (
            _bar_class()(
                total=total,
                desc=desc,
                unit="ex",
                bar_format=_FORMAT if total is not None else _FORMAT_OPEN,
                unit_scale=total is not None and total >= _BIG,
                **{"dynamic_ncols": "ncols" not in tqdm_kwargs, **tqdm_kwargs},
            )
            if enabled
            else None
        )

    def _tokens(self, now: float) -> tuple[float, int, int, int]:
        u = self.stats.usage
        return (now, u.input + u.cache_creation, u.cache_read, u.output)

    def projected_cost(self) -> float | None:
        """The run's total cost at the rate so far (cost per line done, times the lines):
        ``None`` before 20 lines, or without a total."""
        if self.total is None or self.done < 20 or not self.stats.priced:
            return None
        return self.stats.cost_usd * max(self.total, self.done) / self.done

    def token_rates(self) -> tuple[float, float, float] | None:
        """Tokens per minute over the last minute (the run's first minute: since it
        began): input (uncached: what ``--tpm`` limits), cache reads, output. ``None``
        before a second has passed."""
        point = self._tokens(self._clock())
        seen = self._seen
        seen.append(point)
        while len(seen) > 2 and point[0] - seen[1][0] >= _RATE_WINDOW:
            seen.popleft()
        base = seen[0]
        span = point[0] - base[0]
        if span < 1.0:
            return None
        per_minute = 60.0 / span
        return (
            (point[1] - base[1]) * per_minute,
            (point[2] - base[2]) * per_minute,
            (point[3] - base[3]) * per_minute,
        )

    def postfix(self) -> str:
        """The figures after the bar, the most useful first."""
        s = self.stats
        lines = " ".join(f"{_LABELS.get(k, k)} {_count(v)}" for k, v in self.counts.items())
        cost = _money(s.cost_usd) if s.priced else "cost unknown"
        projected = self.projected_cost()
        if projected is not None:
            cost += f" of ~{_money(projected)}"
        rest = [f"in flight {s.in_flight} req", f"retried {s.retried}"]
        if s.cached:
            rest.append(f"cached {_count(s.cached)}")
        held = s.held_until - self._clock()
        if held >= 1:
            rest.append(f"held {held:.0f} s for the rate limit")
        rates = self.token_rates()
        if rates is not None:
            rest.append("tok/min in {} cache {} out {}".format(*(_short(round(r)) for r in rates)))
        return f"{lines} | {cost} | {', '.join(rest)}"

    def advance(self, outcome: str = "good") -> None:
        """One input line finished as ``outcome`` (one of the panel's outcomes)."""
        self.done += 1
        self.counts[outcome] += 1
        if self._bar is None:
            return
        self._bar.update(1)
        now = self._clock()
        if now >= self._next:
            self._next = now + self._interval
            self._bar.set_postfix_str(self.postfix(), refresh=False)

    def refine(self, total: int) -> None:
        """A better total than the one the bar started with (an estimate, at first)."""
        self.total = total
        if self._bar is not None and self._bar.total != total:
            self._bar.total = total
            self._bar.bar_format = _FORMAT
            self._bar.unit_scale = total >= _BIG
            self._bar.refresh()

    def at_least(self, lines: int) -> None:
        """``lines`` were read: an estimate that fell short grows by a tenth past them."""
        if self._bar is not None and self._bar.total is not None and lines >= self._bar.total:
            self.refine(lines + lines // 10)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(self.postfix(), refresh=False)
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _count(n: int) -> str:
    """A count as it is; from :data:`_BIG` on to three figures (``420k``, ``1.05M``)."""
    if n < _BIG:
        return str(n)
    return f"{n / 1000:.0f}k" if n < 999_500 else f"{n / 1_000_000:.3g}M"


def _money(usd: float) -> str:
    return f"${usd:.4f}" if usd < 1 else f"${usd:,.2f}"


def _short(n: int) -> str:
    for unit, size in (("M", 1_000_000), ("k", 1_000)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)
