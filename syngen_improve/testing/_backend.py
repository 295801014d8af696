"""The built-in fake as a backend: what ``backend="fake"`` (Python) and ``--backend fake``
(command line) run against.

A :class:`FakeAnthropicServer` on 127.0.0.1, started on the first request in the caller's
event loop, and a :class:`~syngen_improve.llm.DirectBackend` to it: the same HTTP path as
the real API, offline, deterministic, free.
"""

from __future__ import annotations

import asyncio
import hashlib

from ..llm import DEFAULT_MODEL, DirectBackend, Reply, Request
from ..llm._backend import ClosingBackend
from ._config import Counters, FakeConfig
from ._server import FakeAnthropicServer

__all__ = ["FakeBackend"]


class FakeBackend(ClosingBackend):
    """A :class:`~syngen_improve.llm.Backend` answered by the built-in fake model
    (``config``: its faults, limits and latency; none by default)."""

    #: Sent over :class:`DirectBackend`, which says when a request's bytes went out.
    reports_sent = True

    def __init__(self, config: FakeConfig | None = None, *, model: str = DEFAULT_MODEL) -> None:
        self.model = model
        config = config or FakeConfig()
        self.server = FakeAnthropicServer(config=config)
        # The fake answers by its knobs: the same knobs, the same answers (response cache).
        knobs = hashlib.sha256(repr(config).encode()).hexdigest()[:32]
        self.cache_scope = f"fake {knobs}"
        self._direct: DirectBackend | None = None
        self._starting = asyncio.Lock()

    @property
    def counters(self) -> Counters:
        """What the fake saw."""
        return self.server.counters

    async def send(self, request: Request) -> Reply:
        direct = self._direct or await self._start()
        return await direct.send(request)

    async def _start(self) -> DirectBackend:
        async with self._starting:
            if self._direct is None:
                await self.server.start()
                self._direct = DirectBackend(
                    model=self.model, api_key="sk-fake", base_url=self.server.url
                )
            return self._direct

    async def aclose(self) -> None:
        direct, self._direct = self._direct, None
        try:
            if direct is not None:
                await direct.aclose()
        finally:
            await self.server.stop()
