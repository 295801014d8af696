"""Offline testing: a fake Anthropic-compatible server with knobs, public for users' tests.

``FakeAnthropic`` is the API itself (wire format of API version 2026-10-21, faults,
rate limits, a deterministic rule-based model, counters). ``FakeAnthropicServer``
serves it over real HTTP on 127.0.0.1; ``FakeAnthropic.transport()`` serves it
in-process; ``FakeBackend`` is a backend on it (``backend="fake"``).
``python -m syngen_improve.testing`` runs it as a separate process.
"""

from __future__ import annotations

from ._backend import FakeBackend
from ._config import BAD_OUTPUTS, DEMO_CONFIG, FAULTS, HOSTILE, Counters, FakeConfig
from ._fake import FakeAnthropic
from ._model import FakeModel, example_key, find_example
from ._server import FakeAnthropicServer
from ._transport import in_process_transport
from ._wire import FakeResponse

__all__ = [
    "BAD_OUTPUTS",
    "Counters",
    "DEMO_CONFIG",
    "FAULTS",
    "FakeAnthropic",
    "FakeAnthropicServer",
    "FakeBackend",
    "FakeConfig",
    "FakeModel",
    "FakeResponse",
    "HOSTILE",
    "example_key",
    "find_example",
    "in_process_transport",
]
