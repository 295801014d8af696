"""The progress bar: done / failed / retries / tokens / cost, in a terminal or a notebook.

``tqdm.auto`` picks the notebook widget inside Jupyter. The postfix is rebuilt at
most every ``interval`` seconds so that a fast run does not spend its CPU drawing.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

from tqdm.auto import tqdm

from .llm._engine import EngineStats

__all__ = ["Progress"]


class Progress:
    """A progress bar over a run's items; ``enabled=False`` makes every call a no-op."""

    def __init__(
        self,
        *,
        total: int | None,
        stats: EngineStats,
        enabled: bool = True,
        desc: str = "improving",
        interval: float = 0.5,
        **tqdm_kwargs: Any,
    ) -> None:
        self.stats = stats
        self.enabled = enabled
        self.done = 0
        self.failed = 0
        self._interval = interval
        self._next = 0.0
        self.total = total
        self._bar = (
            tqdm(total=total, desc=desc, unit="ex", dynamic_ncols=True, **tqdm_kwargs)
            if enabled
            else None
        )

    def projected_cost(self) -> float | None:
        """The run's total cost at the rate so far (cost per line done, times the lines):
        ``None`` before 20 lines, or without a total."""
        if self.total is None or self.done < 20:
            return None
        return self.stats.cost_usd * max(self.total, self.done) / self.done

    def postfix(self) -> str:
        """The counters shown after the bar."""
        s = self.stats
        tokens = s.usage.input + s.usage.output + s.usage.cache_read + s.usage.cache_creation
        projected = self.projected_cost()
        return (
            f"ok={self.done - self.failed} failed={self.failed} retries={s.retried} "
            f"tokens={_short(tokens)} ${s.cost_usd:.4f}"
            + (f" (~${projected:.4f} total)" if projected is not None else "")
        )

    def advance(self, *, failed: bool = False) -> None:
        """One item finished."""
        self.done += 1
        if failed:
            self.failed += 1
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
