"""Running a coroutine from synchronous code, even inside a running event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["run_sync"]

T = TypeVar("T")


def run_sync(make: Callable[[], Coroutine[Any, Any, T]], *, name: str) -> T:
    """Run ``make()`` to completion. Inside a running loop (Jupyter, an async app) it runs
    on a helper thread with its own loop, since the caller's loop cannot be re-entered."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with ThreadPoolExecutor(1, thread_name_prefix=name) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()
