"""Running a coroutine from synchronous code, even inside a running event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["run_sync"]

T = TypeVar("T")
#: How often the waiting thread wakes up, so Ctrl-C is seen at once.
_POLL = 0.05


def run_sync(make: Callable[[], Coroutine[Any, Any, T]], *, name: str) -> T:
    """Run ``make()`` to completion. Inside a running loop (Jupyter, an async app) it
    runs on a helper thread with its own loop, since the caller's loop cannot be
    re-entered; Ctrl-C then cancels it there (its cleanup runs: the report says
    interrupted) and is raised here as soon as that is done."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    started, finished = threading.Event(), threading.Event()
    box: dict[str, Any] = {}

    async def main() -> T:
        box["loop"], box["task"] = asyncio.get_running_loop(), asyncio.current_task()
        started.set()
        return await make()

    def target() -> None:
        try:
            box["result"] = asyncio.run(main())
        except BaseException as exc:  # handed to the caller's thread below
            box["error"] = exc
        finally:
            started.set()
            finished.set()

    # Waiting on an Event, not Thread.join: a join cut short by Ctrl-C can leave the
    # thread marked as stopped while it still runs (CPython, 3.11).
    threading.Thread(target=target, name=name, daemon=True).start()
    try:
        while not finished.wait(_POLL):
            pass
    except KeyboardInterrupt:
        started.wait()
        if "task" in box:
            box["loop"].call_soon_threadsafe(box["task"].cancel)
        finished.wait()
        raise
    if "error" in box:
        raise box["error"]
    result: T = box["result"]
    return result
