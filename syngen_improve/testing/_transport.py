"""An in-process ``httpx2`` transport: each request handed straight to a fake's handler."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Protocol

import httpx2

from ._wire import DropConnection, FakeResponse

__all__ = ["Handler", "in_process_transport"]


class Handler(Protocol):
    """Anything that answers one HTTP request the way :class:`FakeAnthropic` does."""

    def handle(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> Awaitable[FakeResponse]: ...


def in_process_transport(fake: Handler) -> httpx2.AsyncBaseTransport:
    """An ``httpx2`` transport that hands each request straight to ``fake``."""

    async def handler(request: httpx2.Request) -> httpx2.Response:
        body = await request.aread()
        try:
            answer = await fake.handle(request.method, request.url.path, request.headers, body)
        except DropConnection:
            raise httpx2.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from None
        return httpx2.Response(answer.status, headers=answer.headers, content=answer.body)

    return httpx2.MockTransport(handler)
