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
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import orjson

from .._fdlimit import is_out_of_files, out_of_files
from ..errors import UsageError, option
from ._backend import BackendError, ClosingBackend, Reply, Request, rate_limit_headers
from ._connect import check_base_url, clean_key
from ._pricing import Usage, usage_count
from ._redact import Redactor
from ._retry import parse_retry_after

if TYPE_CHECKING:
    pass

__all__ = ["DEFAULT_MODEL", "AnthropicBackend"]

DEFAULT_MODEL = "claude-haiku-5-5"
Transport = Literal["aiohttp", "httpx"]


def resolve_key(api_key: str | None) -> str:
    """The key from the argument or ``ANTHROPIC_API_KEY`` (surrounding whitespace
    stripped); a clear error without one, or with one a header cannot carry."""
    source = "api_key" if api_key is not None else "ANTHROPIC_API_KEY"
    key = api_key if api_key is not None else os.environ.get("ANTHROPIC_API_KEY")
    if not key or not key.strip():
        how = option(
            "set ANTHROPIC_API_KEY (offline: --backend fake, or syngen-improve demo)",
            "set ANTHROPIC_API_KEY or pass api_key=... (offline: backend='fake')",
        )
        raise UsageError(f"no API key: {how}")
    return clean_key(key, source=source)


def resolve_base_url(base_url: str | None) -> str | None:
    """The base URL from the argument or ``ANTHROPIC_BASE_URL`` (``None``: the API's)."""
    if base_url:
        return check_base_url(base_url, source="base_url")
    url = os.environ.get("ANTHROPIC_BASE_URL")
    return check_base_url(url, source="ANTHROPIC_BASE_URL") if url else None


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
        self._redact = Redactor(key)
        self.base_url = resolve_base_url(base_url)
        import anthropic

        self._sdk = anthropic
        if http_client is None and transport == "aiohttp":
            http_client = anthropic.DefaultAioHttpClient()
        self._client = anthropic.AsyncAnthropic(
            api_key=key,
            base_url=self.base_url,
            max_retries=0,
            # The engine times each attempt out; a timeout of our own also keeps the SDK from
            # refusing a large max_tokens (thinking budgets) as "streaming is required".
            timeout=3600.0,
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
            raise status_error(
                exc.status_code, exc.body, exc.response.headers, self._redact, default=exc.message
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


def status_error(
    status: int,
    body: Any,
    headers: Mapping[str, str],
    redact: Redactor,
    *,
    default: str,
) -> BackendError:
    """An API error response as a :class:`BackendError`: the message and type of the body's
    ``error`` object (``default`` when it has none), redacted, the request id,
    ``retry-after`` and rate-limit headers."""
    err = body.get("error") if isinstance(body, dict) else None
    error_type = err.get("type") if isinstance(err, dict) else None
    message = str(err.get("message", default)) if isinstance(err, dict) else default
    if status in (401, 403):
        message = f"{message} (check ANTHROPIC_API_KEY / api_key)"
    return BackendError(
        redact(message),
        status=status,
        error_type=redact.optional(error_type if isinstance(error_type, str) else None),
        request_id=redact.optional(headers.get("request-id")),
        retry_after=parse_retry_after(headers),
        rate_limits=rate_limit_headers(headers),
    )


def read_reply(data: Any, headers: Mapping[str, str], redact: Redactor) -> Reply:
    """A :class:`Reply` from a decoded Messages API body, checked against the wire format
    first: a reply that does not match (content not a list of blocks, usage that is not a
    count, a body that is not an object) is a :class:`BackendError` the engine retries,
    never an exception that ends the run or a cost computed from nonsense."""
    request_id = redact.optional(headers.get("request-id"))
    try:
        if not isinstance(data, dict):
            raise ValueError(f"the body is a {type(data).__name__}, not an object")
        content = data.get("content")
        if not isinstance(content, list) or not all(
            isinstance(b, dict) and isinstance(b.get("type"), str) for b in content
        ):
            raise ValueError("content is not a list of blocks")
        usage = data.get("usage") or {}
        if not isinstance(usage, dict):
            raise ValueError("usage is not an object")
        counts = Usage(
            input=usage_count(usage, "input_tokens"),
            output=usage_count(usage, "output_tokens"),
            cache_read=usage_count(usage, "cache_read_input_tokens"),
            cache_creation=usage_count(usage, "cache_creation_input_tokens"),
        )
        stop = data.get("stop_reason")
    except ValueError as exc:
        raise BackendError(
            redact(f"the reply does not match the Messages API: {exc}", limit=300),
            error_type="bad_response",
            request_id=request_id,
        ) from None
    return Reply(
        content=content,
        usage=counts,
        model=redact(str(data.get("model", "")), limit=100),
        stop_reason=stop if isinstance(stop, str) else None,
        request_id=request_id,
        rate_limits=rate_limit_headers(headers),
    )
