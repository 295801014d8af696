"""Shared fixtures: the real data (copies in tests/data, so a fresh clone runs every test);
the stall watchdog on every async test (see tests/watchdog.py)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.watchdog import Watchdog

#: Unchanged copies of ../shared/data's real slice and pairs (see tests/data/README.md).
REAL_DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def shared_data() -> Path:
    """The folder of the real data: the 900-line scored slice and the 200 improved pairs."""
    return REAL_DATA


pytest_plugins = ["syngen_improve.testing.pytest_plugin"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every async test runs under the stall watchdog."""
    for item in items:
        function = getattr(item, "function", None)
        if function is not None and inspect.iscoroutinefunction(function):
            item.fixturenames.append("stall_watchdog")  # type: ignore[attr-defined]


@pytest.fixture
async def stall_watchdog() -> AsyncIterator[None]:
    """Fails the test when its event loop sits with nothing in flight and nothing to do."""
    dog = Watchdog(asyncio.get_running_loop())
    dog.start()
    try:
        yield
    finally:
        dog.stop()
        if dog.stalled:
            pytest.fail(dog.stalled, pytrace=False)
