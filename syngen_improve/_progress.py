"""The live panel of a long run: a progress bar over the input lines with what became of
them (improved / failed / good / quarantined), the examples in flight, retries, tokens per
minute, the cost so far and the projected total.

tqdm draws it. In a terminal it is one line rewritten in place; in a notebook it is a
widget when ``ipywidgets`` is installed (the ``notebook`` extra) and otherwise the same one
text line (never tqdm's "IProgress not found" warning). The counters are rebuilt at most
every ``interval`` seconds, so a fast run does not spend its CPU drawing.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from types import TracebackType
from typing import Any, Final

from tqdm.std import tqdm

from .llm._stats import EngineStats

__all__ = ["OUTCOMES", "Progress"]

#: What an input line can become, as the panel counts it.
OUTCOMES: Final = ("improved", "failed", "good", "quarantined")


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
        **tqdm_kwargs: Any,
    ) -> None:
        self.stats = stats
        self.enabled = enabled
        self.done = 0
        #: Input lines by what became of them (:data:`OUTCOMES` for a run).
        self.counts = dict.fromkeys(outcomes, 0)
        #: Examples sent to the model and not finished yet.
        self.in_flight = 0
        self._interval = interval
        self._next = 0.0
        self._t0 = time.monotonic()
        self.total = total
        self._bar = (
            _bar_class()(total=total, desc=desc, unit="ex", dynamic_ncols=True, **tqdm_kwargs)
            if enabled
            else None
        )

    def begin(self) -> None:
        """An example goes to the model (its :meth:`advance` says ``sent=True``)."""
        self.in_flight += 1

    def projected_cost(self) -> float | None:
        """The run's total cost at the rate so far (cost per line done, times the lines):
        ``None`` before 20 lines, or without a total."""
        if self.total is None or self.done < 20 or not self.stats.priced:
            return None
        return self.stats.cost_usd * max(self.total, self.done) / self.done

    def postfix(self) -> str:
        """The counters shown after the bar."""
        s = self.stats
        tokens = s.usage.input + s.usage.output + s.usage.cache_read + s.usage.cache_creation
        minutes = max(time.monotonic() - self._t0, 60.0) / 60  # a rate over a minute at least
        projected = self.projected_cost()
        lines = " ".join(f"{k}={v}" for k, v in self.counts.items())
        held = s.held_until - time.monotonic()
        return (
            f"{lines} | in flight {self.in_flight}, retries {s.retried}, "
            + (f"cached {s.cached}, " if s.cached else "")
            + (f"held {held:.0f} s for the rate limit, " if held >= 1 else "")
            + f"{_short(round(tokens / minutes))} tok/min, "
            + (f"${s.cost_usd:.4f}" if s.priced else "cost unknown")
            + (f" (~${projected:.4f} total)" if projected is not None else "")
        )

    def advance(self, outcome: str = "good", *, sent: bool = False) -> None:
        """One input line finished as ``outcome`` (one of the panel's outcomes);
        ``sent``: it was an example sent to the model (see :meth:`begin`)."""
        self.done += 1
        self.counts[outcome] += 1
        if sent:
            self.in_flight -= 1
        if self._bar is None:
            return
        self._bar.update(1)
        now = time.monotonic()
        if now >= self._next:
            self._next = now + self._interval
            self._bar.set_postfix_str(self.postfix(), refresh=False)

    def refine(self, total: int) -> None:
        """A better total than the one the bar started with (an estimate, at first)."""
        self.total = total
        if self._bar is not None and self._bar.total != total:
            self._bar.total = total
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


def _short(n: int) -> str:
    for unit, size in (("M", 1_000_000), ("k", 1_000)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)
