"""pytest fixtures for the fake Anthropic server.

Enable with ``pytest_plugins = ["syngen_improve.testing.pytest_plugin"]`` in your
``conftest.py``. ``fake_anthropic_server`` is a running :class:`FakeAnthropicServer`
(its own thread, so sync and async tests can use it) with ``ANTHROPIC_BASE_URL`` and
``ANTHROPIC_API_KEY`` pointing at it for the test's duration.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._server import FakeAnthropicServer

FAKE_API_KEY = "sk-ant-fake-0000"


@pytest.fixture
def fake_anthropic_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropicServer]:
    """A fake Anthropic API on 127.0.0.1 with default knobs; the environment points at it."""
    with FakeAnthropicServer() as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_API_KEY)
        yield server
