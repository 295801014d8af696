"""Serving :class:`FakeAnthropic` over a real HTTP server on 127.0.0.1.

The server runs either on the caller's event loop (``async with``) or on its own
thread (``with``), so synchronous tests, async tests and scripts can all use it.
Besides the Messages API it answers ``GET /_fake/counters`` (the counters as JSON),
which is how a client reads them from a server in another process, and ``GET
/_fake/timeline`` (when each request arrived, ``time.monotonic()`` seconds). ``record=PATH``
appends the body of every ``POST /v1/messages`` to PATH, one JSON line each, so a
benchmark can replay exactly what a client sent.
"""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson
from aiohttp import web

from ._config import Counters, FakeConfig
from ._fake import FakeAnthropic
from ._wire import DropConnection

__all__ = ["FakeAnthropicServer"]

COUNTERS_PATH = "/_fake/counters"
TIMELINE_PATH = "/_fake/timeline"
MESSAGES_PATH = "/v1/messages"


class FakeAnthropicServer:
    """The fake Anthropic API over real HTTP on ``host`` (an ephemeral port by default).

    >>> with FakeAnthropicServer(config=FakeConfig(latency=0.01)) as server:
    ...     backend = AnthropicBackend(base_url=server.url, api_key="test")  # doctest: +SKIP
    """

    def __init__(
        self,
        fake: FakeAnthropic | None = None,
        *,
        config: FakeConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        record: str | os.PathLike[str] | None = None,
    ) -> None:
        if fake is not None and config is not None:
            raise ValueError("pass either 'fake' or 'config', not both")
        self.fake = fake or FakeAnthropic(config)
        self.host = host
        self.port = port
        self.record = Path(record) if record is not None else None
        self._recording: int | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        """The base URL to give a client (``ANTHROPIC_BASE_URL``)."""
        if self._runner is None:
            raise RuntimeError("the server is not running")
        return f"http://{self.host}:{self.port}"

    @property
    def counters(self) -> Counters:
        """What the fake saw so far."""
        return self.fake.counters

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.method == "GET" and request.path == COUNTERS_PATH:
            return web.Response(
                body=orjson.dumps(self.fake.counters.snapshot(), option=orjson.OPT_NON_STR_KEYS),
                content_type="application/json",
            )
        if request.method == "GET" and request.path == TIMELINE_PATH:
            return web.Response(
                body=orjson.dumps(self.fake.counters.started), content_type="application/json"
            )
        body = await request.read()
        if (
            self._recording is not None
            and request.method == "POST"
            and request.path == MESSAGES_PATH
        ):
            os.write(self._recording, body.strip() + b"\n")
        try:
            answer = await self.fake.handle(request.method, request.path, request.headers, body)
        except DropConnection:
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError from None  # aiohttp ends the handler quietly
        return web.Response(status=answer.status, headers=answer.headers, body=answer.body)

    async def start(self) -> None:
        """Start serving on the running event loop."""
        if self.record is not None and self._recording is None:
            self._recording = os.open(self.record, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        server = site._server  # the bound socket tells the ephemeral port
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]
        self._runner = runner

    async def stop(self) -> None:
        """Stop serving; hung requests are released."""
        self.fake.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._recording is not None:
            os.close(self._recording)
            self._recording = None

    async def __aenter__(self) -> FakeAnthropicServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def __enter__(self) -> FakeAnthropicServer:
        loop = asyncio.new_event_loop()
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # reported to the caller below
                failure.append(exc)
                started.set()
                return
            started.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="fake-anthropic", daemon=True)
        self._thread.start()
        started.wait()
        if failure:
            self._thread.join()
            loop.close()
            self._loop = self._thread = None
            raise failure[0]
        return self

    def __exit__(self, *exc: Any) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self.stop(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        self._loop = self._thread = None
