"""The SDK backend (``backend="sdk"``): one Messages API call through the official SDK.

Optional: the default online path is :class:`~syngen_improve.llm.DirectBackend` (no SDK
import, a third of the CPU). Here the SDK sends over ``anthropic.DefaultAioHttpClient``
(1.1 ms of CPU a request at 100 in flight, against ~2 ms over its httpx2 pool), or over
the ``http_client`` given (tests pass the fake's in-process transport). The reply is
decoded with orjson from the raw response, as the direct backend does.

The SDK's own retries are off (``max_retries=0``): the engine's
:class:`~syngen_improve.llm.RetryPolicy` is the only owner of retries. The SDK is
imported when the first backend is made (importing it takes over a second).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from .._fdlimit import is_out_of_files, out_of_files
from ..errors import UsageError
from ._backend import BackendError, ClosingBackend, Reply, Request
from ._connect import extra_headers, secret_values
from ._messages import (
    DEFAULT_MODEL,
    messages_base,
    messages_scope,
    read_reply,
    resolve_key,
    status_error,
)
from ._redact import Redactor

__all__ = ["AnthropicBackend"]


class AnthropicBackend(ClosingBackend):
    """Messages API calls via ``anthropic.AsyncAnthropic``.

    ``api_key`` / ``base_url`` default to ``ANTHROPIC_API_KEY`` / ``ANTHROPIC_BASE_URL``.
    ``http_client`` replaces the SDK's aiohttp client (tests pass the fake's in-process
    transport this way).
    """

    def __init__(
        self,
        *,
        model: str = DEFAULT_MODEL,
        api_key: str | None = None,
        base_url: str | None = None,
        http_client: Any = None,
        default_headers: Mapping[str, str] | None = None,
    ) -> None:
        if not model:
            raise UsageError("'model' must be a non-empty model id")
        key = resolve_key(api_key)
        self.model = model
        self._key = key
        extra = extra_headers(default_headers)
        self._redact = Redactor(key, secret_values(extra))
        self.base = messages_base(base_url)
        self.base_url = None if self.base.default else self.base.url
        self.cache_scope = messages_scope(self.base_url)
        import anthropic

        self._sdk = anthropic
        if http_client is None:
            http_client = anthropic.DefaultAioHttpClient()
        self._client = anthropic.AsyncAnthropic(
            api_key=key,
            base_url=self.base_url,
            max_retries=0,
            # The engine times each attempt out; a timeout of our own also keeps the SDK from
            # refusing a large max_tokens (thinking budgets) as "streaming is required".
            timeout=3600.0,
            http_client=http_client,
            default_headers=extra or None,
        )

    def __repr__(self) -> str:
        return f"AnthropicBackend(model={self.model!r}, base_url={self.base_url!r})"

    async def send(self, request: Request) -> Reply:
        """One attempt; failures become :class:`BackendError` without the key."""
        body = request.body(self.model)
        sdk = self._sdk
        try:
            raw = await self._client.messages.with_raw_response.create(**body)
        except sdk.APIStatusError as exc:
            raise status_error(
                exc.status_code,
                exc.body,
                exc.response.headers,
                self._redact,
                base=self.base,
                path="/v1/messages",
            ) from None
        except sdk.APITimeoutError:
            raise BackendError("request timed out", error_type="timeout") from None
        except sdk.APIConnectionError as exc:
            if is_out_of_files(exc):  # our process's limit, not the service
                raise out_of_files() from None
            cause = exc.__cause__ or exc
            message = self._redact(f"connection error: {type(cause).__name__}: {cause}")
            raise BackendError(message, error_type="connection") from None
        try:
            data = orjson.loads(raw.http_response.content)
        except orjson.JSONDecodeError as exc:
            raise BackendError(
                f"the reply body is not JSON ({exc})",
                error_type="bad_response",
                request_id=self._redact.optional(raw.headers.get("request-id")),
            ) from None
        return read_reply(data, raw.headers, self._redact)

    async def aclose(self) -> None:
        await self._client.close()
