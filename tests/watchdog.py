"""The suite's stall watchdog: no test may sit with nothing in flight and nothing to do.

A run that waits silently (for an event nobody sets, for a timer a day away) would
otherwise only meet the per-test timeout, a minute later, saying nothing of where. A
thread samples the test's event loop every ``every`` seconds; the loop is stalled when,
for ``idle`` seconds in a row:

- nothing is ready to run and no timer is due within ``idle`` seconds (nothing to do),
- no socket or pipe other than a listening one is open in its selector (nothing in
  flight: a request waiting for its answer is in flight, and has its own timeout),
- and no task moved on (each waits on the same future as before).

A stalled test is failed at once with what each task waits on; its tasks are cancelled
so that the failure comes now, not at the timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from typing import Any

__all__ = ["Watchdog"]


class Watchdog:
    """Watches one event loop from a thread (start it, then :meth:`stop` it)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, *, idle: float = 15.0,
                 every: float = 0.5) -> None:  # fmt: skip
        self.loop = loop
        self.idle = idle
        self.every = every
        self.stalled: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="stall-watchdog", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _watch(self) -> None:
        quiet_since: float | None = None
        last: object = None
        while not self._stop.wait(self.every):
            state = self._state()
            if state is None:  # something to do, or in flight
                quiet_since, last = None, None
                continue
            if state != last:
                quiet_since, last = time.monotonic(), state
                continue
            if quiet_since is not None and time.monotonic() - quiet_since >= self.idle:
                self.stalled = self._describe()
                self.loop.call_soon_threadsafe(self._cancel_all)
                return

    def _state(self) -> object | None:
        """What the tasks wait on when the loop has nothing to do and nothing in flight;
        ``None`` otherwise."""
        loop: Any = self.loop
        if loop.is_closed() or not loop.is_running() or loop._ready:
            return None
        scheduled = [h for h in list(loop._scheduled) if not h.cancelled()]
        if scheduled and min(h.when() for h in scheduled) - loop.time() < self.idle:
            return None
        if self._in_flight():
            return None
        try:
            tasks = list(asyncio.all_tasks(loop))
        except RuntimeError:  # the set changed while read: the loop is busy
            return None
        return frozenset((id(t), id(getattr(t, "_fut_waiter", None))) for t in tasks)

    def _in_flight(self) -> bool:
        """An open connection or pipe is registered with the loop's selector."""
        selector = getattr(self.loop, "_selector", None)
        if selector is None:
            return True  # a loop we cannot see into: never call it stalled
        own = getattr(self.loop, "_ssock", None)
        own_fd = own.fileno() if own is not None else -1
        try:
            keys = list(selector.get_map().values())
        except RuntimeError:
            return True
        for key in keys:
            obj = key.fileobj
            if key.fd == own_fd:  # the loop's own wake-up pipe
                continue
            if isinstance(obj, socket.socket):
                with contextlib.suppress(OSError):
                    if obj.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
                        continue  # a server waiting for a client is not in flight
            return True
        return False

    def _describe(self) -> str:
        lines = [f"the event loop sat {self.idle:g} s with nothing in flight and nothing to do:"]
        try:
            tasks = list(asyncio.all_tasks(self.loop))
        except RuntimeError:
            tasks = []
        for task in tasks:
            frames = task.get_stack(limit=3)
            where = " <- ".join(f"{f.f_code.co_name} ({f.f_code.co_filename.rsplit('/', 1)[-1]}"
                                f":{f.f_lineno})" for f in frames)  # fmt: skip
            waits = getattr(task, "_fut_waiter", None)
            lines.append(f"  {task.get_name()}: {where or 'not started'}; waits on {waits!r}")
        return "\n".join(lines)

    def _cancel_all(self) -> None:
        for task in asyncio.all_tasks(self.loop):
            task.cancel("stall watchdog")
