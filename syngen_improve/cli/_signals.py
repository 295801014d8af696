"""Ctrl-C and SIGTERM for the commands that run async jobs: the first stop cancels the job
(its cleanup and report run); a further one while it finishes is only acknowledged.

Python-level handlers (``signal.signal``), not the event loop's: the loop's handlers are
removed when it closes, which puts Python's default back (``KeyboardInterrupt``, or death by
SIGTERM) while the process is still on its way out — a signal held down lands in that gap
sooner or later, and blocking it in the main thread only sends it to another thread, which
raises it in the main one all the same. Replacing one handler by another has no gap: after
a stop the console process goes from ours to ``SIG_IGN``, which is also the one handler
Python's finalization leaves in place (it puts ``SIG_DFL`` back over a Python handler, and
a SIGINT then kills the process on its last step).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import Any, TypeVar

from ..errors import Terminated

__all__ = ["hold_signals_after_a_stop", "run_async"]

T = TypeVar("T")

_STOPS = (signal.SIGINT, signal.SIGTERM)
_STILL_WRITING = b"syngen-improve: still writing the report; one moment\n"

#: Set by the console entry point (never for a caller of :func:`main` in its own process):
#: once a signal has stopped a run, further stop signals are held until the process exits.
_HOLD_AFTER_STOP = False


def hold_signals_after_a_stop() -> None:
    """For the console process only: after Ctrl-C or SIGTERM stopped a run, the process is
    on its way out (report written, message printed, exit code set); another stop signal
    then would only interrupt that with a traceback, so it is held instead."""
    global _HOLD_AFTER_STOP
    _HOLD_AFTER_STOP = True


class _Stop:
    """The handler of both stop signals for one job: the first cancels the job's task from
    the loop (``call_soon_threadsafe`` also wakes a loop waiting in ``select``); the next
    ones say once that the report is being written (``os.write``: a handler may interrupt
    a ``print`` to the same stream, which ``print`` cannot re-enter)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any]) -> None:
        self.loop, self.task = loop, task
        self.by: signal.Signals | None = None  # the signal that stopped the job
        self._said = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.by is not None:
            if not self._said:
                self._said = True
                _say(_STILL_WRITING)
            return
        self.by = signal.Signals(signum)
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.task.cancel)


def _say(message: bytes) -> None:
    with contextlib.suppress(AttributeError, OSError, ValueError):  # no file: say nothing
        os.write(sys.stderr.fileno(), message)


def run_async(job: Callable[[], Awaitable[T]]) -> T:
    """Run an async command to its end. The first Ctrl-C or SIGTERM cancels it (its cleanup
    and report run) and surfaces as ``KeyboardInterrupt`` or
    :class:`~syngen_improve.errors.Terminated`; a further one while it finishes is only
    acknowledged, so the report and the run record are never cut short. Signal handlers
    can only be set from the main thread: from another (a tool calling ``main()`` there)
    the signals keep their handlers."""
    stops: list[_Stop] = []

    async def main() -> T:
        task = asyncio.current_task()
        assert task is not None
        if threading.current_thread() is not threading.main_thread():
            return await job()
        stop = _Stop(asyncio.get_running_loop(), task)
        stops.append(stop)
        before = {signum: signal.signal(signum, stop) for signum in _STOPS}
        try:
            return await job()
        finally:
            for signum, handler in before.items():
                if stop.by is not None and _HOLD_AFTER_STOP:
                    signal.signal(signum, signal.SIG_IGN)  # to the exit (see the module)
                elif handler is not None:  # None: set from C, cannot be put back
                    signal.signal(signum, handler)

    try:
        return asyncio.run(main())
    except asyncio.CancelledError:
        by = stops[0].by if stops else None
        if by == signal.SIGTERM:
            raise Terminated("terminated by SIGTERM") from None
        if by is not None:
            raise KeyboardInterrupt from None
        raise
