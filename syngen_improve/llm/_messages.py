"""The Messages API's wire facts every Anthropic backend shares: the default model, where
the key and base URL come from, and how a reply or an error body is read (checked against
the documented format, redacted)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Final

from ..errors import UsageError, option
from ._backend import BackendError, Reply, rate_limit_headers
from ._connect import check_base_url, clean_key
from ._pricing import Usage, usage_count
from ._redact import Redactor
from ._retry import parse_retry_after
from ._said import BaseURL, said

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MODEL",
    "messages_base",
    "messages_scope",
    "read_reply",
    "resolve_base_url",
    "resolve_key",
    "status_error",
]

DEFAULT_MODEL: Final = "claude-haiku-5-5"
#: The API's own address (the base URL when none is set).
DEFAULT_BASE_URL: Final = "https://api.anthropic.com"


def messages_scope(base_url: str | None) -> str:
    """The response cache's scope of the Messages API at ``base_url`` (the same answers
    whichever transport or backend asks)."""
    return "anthropic-messages " + (base_url or DEFAULT_BASE_URL).rstrip("/")


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


def messages_base(base_url: str | None) -> BaseURL:
    """The base URL of the Messages API (:func:`resolve_base_url`, else the API's own)
    and where it came from, for error messages."""
    resolved = resolve_base_url(base_url)
    return BaseURL(
        (resolved or DEFAULT_BASE_URL).rstrip("/"),
        "base_url" if base_url else "ANTHROPIC_BASE_URL",
        default=resolved is None,
        form="the API's root (requests go to BASE/v1/messages): http://host:4000 or "
        "http://host:4000/anthropic, never ending in /v1",
    )


def status_error(
    status: int,
    body: Any,
    headers: Mapping[str, str],
    redact: Redactor,
    *,
    raw: bytes = b"",
    base: BaseURL | None = None,
    path: str = "",
) -> BackendError:
    """An error response as a :class:`BackendError`: the server's words (the API's
    ``error`` object, or a gateway's, see :func:`~._said.error_text`), redacted, with a
    hint where the status has a usual cause (a key; a base URL, naming the URL asked),
    the request id, ``retry-after`` and rate-limit headers."""
    if isinstance(body, str):
        body, raw = None, body.encode()
    gateway = base is not None and base.url != DEFAULT_BASE_URL
    message, error_type = said(
        status, body, raw, base=base, path=path, key="ANTHROPIC_API_KEY / api_key", gateway=gateway
    )
    return BackendError(
        redact(message),
        status=status,
        error_type=redact.optional(error_type),
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
