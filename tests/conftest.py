"""Shared fixtures: the real data (copies in tests/data, so a fresh clone runs every test);
a response cache of its own for every test; the stall watchdog on every async test (see
tests/watchdog.py); an output folder of the bundled sample improved by the fake."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Iterator
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


@pytest.fixture(autouse=True, scope="session")
def session_response_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Fixtures wider than a test keep their answers away from the user's cache too."""
    folder = tmp_path_factory.mktemp("session-response-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SYNGEN_IMPROVE_CACHE_DIR", str(folder))
        yield folder


@pytest.fixture(autouse=True)
def own_response_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test keeps its answers in a response cache of its own (never the user's, never
    another test's); a test that runs twice into one cache does so on purpose."""
    folder = tmp_path_factory.mktemp("response-cache")
    monkeypatch.setenv("SYNGEN_IMPROVE_CACHE_DIR", str(folder))
    return folder


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


@pytest.fixture
def sample_run(tmp_path: Path) -> Path:
    """An output folder: the bundled sample improved by ``--backend fake``."""
    from syngen_improve import sample_path
    from syngen_improve.cli import main

    out = tmp_path / "out"
    args = ["improve", str(sample_path()), "--out", str(out), "--backend", "fake"]
    assert main([*args, "--no-progress"]) == 0
    return out
