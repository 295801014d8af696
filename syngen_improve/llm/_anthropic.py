"""The Anthropic backend: one Messages API call through the official SDK.

Transport: ``anthropic.DefaultAioHttpClient`` (aiohttp) by default. Measured on our
2-core machines at 100 concurrent requests, the SDK costs about 1.1 ms of CPU per
request over aiohttp against about 2 ms over its default httpx2 pool (plain httpx:
18 ms), so aiohttp is the default and ``transport="httpx"`` the fallback. The reply
is decoded with orjson from the raw response rather than into the SDK's pydantic
models, which the engine does not need.

The SDK's own retries are off (``max_retries=0``): the engine's
:class:`~syngen_improve.llm.RetryPolicy` is the only owner of retries. The SDK is
imported when the first backend is made (importing it takes over a second).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Literal

import orjson

from ..errors import UsageError
from ._backend import BackendError, ClosingBackend, Reply, Request, rate_limit_headers
from ._pricing import Usage
from ._retry import parse_retry_after

if TYPE_CHECKING:
    import anthropic

__all__ = ["DEFAULT_MODEL", "AnthropicBackend"]

DEFAULT_MODEL = "claude-haiku-5-5"
Transport = Literal["aiohttp", "httpx"]


def _scrub(text: str, secret: str | None) -> str:
    """``text`` with the key (and any long tail of it) replaced, whatever the SDK put there."""
    if secret and len(secret) >= 4:
        text = text.replace(secret, "[redacted]")
        if len(secret) > 12:
            text = text.replace(secret[-12:], "[redacted]")
    return text


def resolve_key(api_key: str | None) -> str:
    """The key from the argument or ``ANTHROPIC_API_KEY``; a clear error without one."""
    key = api_key if api_key is not None else os.environ.get("ANTHROPIC_API_KEY")
    if not key:
        raise UsageError(
            "no API key: pass api_key=... or set ANTHROPIC_API_KEY (offline: "
            "`syngen-improve demo`, `--backend fake`, or syngen_improve.testing)"
        )
    return key


class AnthropicBackend(ClosingBackend):
    """Messages API calls via ``anthropic.AsyncAnthropic``.

    ``api_key`` / ``base_url`` default to ``ANTHROPIC_API_KEY`` / ``ANTHROPIC_BASE_URL``.
    ``http_client`` replaces the transport entirely (tests pass the fake's in-process
    transport this way).
    """

    def __init__(
        self,
        *,
        model: str = DEFAULT_MODEL,
        api_key: str | None = None,
        base_url: str | None = None,
        transport: Transport = "aiohttp",
        http_client: Any = None,
        default_headers: dict[str, str] | None = None,
    ) -> None:
        if not model:
            raise UsageError("'model' must be a non-empty model id")
        if transport not in ("aiohttp", "httpx"):
            raise UsageError(f"'transport' must be 'aiohttp' or 'httpx', got {transport!r}")
        key = resolve_key(api_key)
        self.model = model
        self._key = key
        self.base_url = base_url or os.environ.get("ANTHROPIC_BASE_URL") or None
        import anthropic

        self._sdk = anthropic
        if http_client is None and transport == "aiohttp":
            http_client = anthropic.DefaultAioHttpClient()
        self._client = anthropic.AsyncAnthropic(
            api_key=key,
            base_url=self.base_url,
            max_retries=0,
            http_client=http_client,
            default_headers=default_headers,
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
            raise self._status_error(exc) from None
        except sdk.APITimeoutError:
            raise BackendError("request timed out", error_type="timeout") from None
        except sdk.APIConnectionError as exc:
            cause = exc.__cause__ or exc
            message = _scrub(f"connection error: {type(cause).__name__}: {cause}", self._key)
            raise BackendError(message, error_type="connection") from None
        try:
            data = orjson.loads(raw.http_response.content)
        except orjson.JSONDecodeError as exc:
            raise BackendError(
                f"the reply body is not JSON ({exc})",
                error_type="bad_response",
                request_id=raw.headers.get("request-id"),
            ) from None
        return _reply(data, raw.headers)

    def _status_error(self, exc: anthropic.APIStatusError) -> BackendError:
        headers = exc.response.headers
        error_type: str | None = None
        message = exc.message
        body = exc.body
        if isinstance(body, dict):
            err = body.get("error")
            if isinstance(err, dict):
                error_type = err.get("type")
                message = str(err.get("message", message))
        status = exc.status_code
        if status in (401, 403):
            message = f"{message} (check ANTHROPIC_API_KEY / api_key)"
        return BackendError(
            _scrub(message, self._key),
            status=status,
            error_type=error_type,
            request_id=headers.get("request-id"),
            retry_after=parse_retry_after(headers),
            rate_limits=rate_limit_headers(headers),
        )

    async def aclose(self) -> None:
        await self._client.close()


def _reply(data: dict[str, Any], headers: Any) -> Reply:
    """A :class:`Reply` from a decoded Messages API response body."""
    usage = data.get("usage") or {}
    return Reply(
        content=list(data.get("content") or []),
        usage=Usage(
            input=int(usage.get("input_tokens") or 0),
            output=int(usage.get("output_tokens") or 0),
            cache_read=int(usage.get("cache_read_input_tokens") or 0),
            cache_creation=int(usage.get("cache_creation_input_tokens") or 0),
        ),
        model=str(data.get("model", "")),
        stop_reason=data.get("stop_reason"),
        request_id=headers.get("request-id"),
        rate_limits=rate_limit_headers(headers),
    )
