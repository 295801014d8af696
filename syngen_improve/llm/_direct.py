"""The default Messages API client: the request straight over aiohttp, no SDK import.

Importing ``anthropic`` 2.x takes 1.0-1.5 s here, which was most of a run's time to first
request, and its request path costs ~1 ms of CPU a request (measurements in
docs/benchmarks.md). This backend sends the request the SDK would (``POST
{base}/v1/messages`` with the body :meth:`Request.body` builds, API version ``2026-10-21``,
the key in the documented ``x-api-key`` header) and reads the reply with the same validation as
:class:`AnthropicBackend`, so errors, retries and redaction behave the same. The SDK stays
one name away (``backend="sdk"``) and keeps doing everything else (batches, token counting).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

import orjson

from .._fdlimit import is_out_of_files, out_of_files
from .._version import __version__
from ..errors import UsageError
from ._backend import BackendError, ClosingBackend, Reply, Request, mark_sent
from ._body import ACCEPTED_ENCODINGS, read_capped
from ._connect import extra_headers, secret_values, without_credentials
from ._messages import (
    DEFAULT_BASE_URL,
    DEFAULT_MODEL,
    messages_base,
    messages_scope,
    read_reply,
    resolve_key,
    status_error,
)
from ._redact import Redactor
from ._said import connection_error

if TYPE_CHECKING:
    import aiohttp
    from aiohttp.abc import AbstractStreamWriter

__all__ = ["API_VERSION", "DirectBackend"]

#: The API version anthropic 2.x speaks (sent as ``anthropic-version``).
API_VERSION: Final = "2026-10-21"
_LOOPBACK: Final = ("127.0.0.1", "localhost", "::1")


class DirectBackend(ClosingBackend):
    """Messages API calls straight over aiohttp (see the module docstring). ``api_key`` /
    ``base_url`` default to ``ANTHROPIC_API_KEY`` / ``ANTHROPIC_BASE_URL``; proxies come
    from ``HTTPS_PROXY`` / ``NO_PROXY`` as with the SDK; ``default_headers`` (after those
    of ``SYNGEN_IMPROVE_HEADERS``) are added to every request (an API gateway's own)."""

    #: It says when a request's bytes went out (the engine counts requests by it).
    reports_sent: Final = True

    def __init__(
        self,
        *,
        model: str = DEFAULT_MODEL,
        api_key: str | None = None,
        base_url: str | None = None,
        default_headers: Mapping[str, str] | None = None,
    ) -> None:
        if not model:
            raise UsageError("'model' must be a non-empty model id")
        self.model = model
        self._key = resolve_key(api_key)
        self.base = messages_base(base_url)
        self.base_url = self.base.url
        self.cache_scope = messages_scope(self.base_url)
        # The documented header, which some gateways read alone; a gateway (any other host)
        # that reads only Authorization gets the same key there too.
        auth = {"x-api-key": self._key}
        if urlsplit(self.base_url).hostname != urlsplit(DEFAULT_BASE_URL).hostname:
            auth["authorization"] = f"Bearer {self._key}"
        self._headers = {
            **auth,
            "anthropic-version": API_VERSION,
            "content-type": "application/json",
            "accept": "application/json",
            "accept-encoding": ACCEPTED_ENCODINGS,
            "user-agent": f"syngen-improve/{__version__}",
        }
        extra = extra_headers(default_headers)  # a gateway's own headers (they win)
        self._headers.update(extra)
        self._redact = Redactor(self._key, secret_values(extra))
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"DirectBackend(model={self.model!r}, base_url={self.base_url!r})"

    async def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            import aiohttp

            # The engine bounds concurrency and times attempts out: the session adds no
            # second limit and no total timeout of its own (aiohttp's default is 300 s).
            connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
            timeout = aiohttp.ClientTimeout(total=None, sock_connect=60)
            # A proxy cannot reach this machine's loopback: the built-in fake never uses one.
            host = urlsplit(self.base_url).hostname
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=timeout,
                trust_env=host not in _LOOPBACK,
                auto_decompress=False,  # inflated by read_capped, within a cap (bombs)
            )
        return self._session

    async def send(self, request: Request) -> Reply:
        """One attempt; failures become :class:`BackendError` without the key."""
        data, headers = await self._post("/v1/messages", request.encoded_body(self.model))
        return read_reply(data, headers, self._redact)

    async def count_tokens(self, request: Request) -> int:
        """The input tokens of ``request`` by the API's own count (``POST
        /v1/messages/count_tokens``: free, and not a Messages request)."""
        body = {k: v for k, v in request.body(self.model).items() if k != "max_tokens"}
        data, _ = await self._post("/v1/messages/count_tokens", orjson.dumps(body))
        count = data.get("input_tokens") if isinstance(data, dict) else None
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise BackendError(
                f"count_tokens answered {count!r}, not a count", error_type="bad_response"
            )
        return count

    async def _post(self, path: str, body: bytes) -> tuple[Any, dict[str, str]]:
        """``body`` posted to ``path``: the decoded JSON answer of a 200 and its headers
        (lower-cased); anything else becomes a :class:`BackendError` without the key. A
        redirect is not followed (a POST would go on as a GET, elsewhere): it is an error
        naming the base URL and where it points."""
        import aiohttp

        session = await self._open()
        try:
            async with session.post(
                f"{self.base_url}{path}",
                data=_marking_payload()(body),
                headers=self._headers,
                allow_redirects=False,
            ) as resp:
                mark_sent()  # an answer came: it was sent, whatever the trace said
                status, headers = resp.status, {k.lower(): v for k, v in resp.headers.items()}
                raw = await read_capped(resp.content, headers, self._redact)
        except (aiohttp.ClientError, OSError) as exc:
            if is_out_of_files(exc):
                raise out_of_files() from None
            raise connection_error(exc, self.base, self._redact) from None
        if 300 <= status < 400:
            raise self._redirected(status, headers)
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            if status != 200:
                data = None
            else:
                raise BackendError(
                    f"the reply body is not JSON ({exc})",
                    error_type="bad_response",
                    request_id=self._redact.optional(headers.get("request-id")),
                ) from None
        if status != 200:
            raise status_error(
                status, data, headers, self._redact, raw=raw, base=self.base, path=path
            )
        return data, headers

    def _redirected(self, status: int, headers: Mapping[str, str]) -> BackendError:
        where = without_credentials(self._redact(headers.get("location", "nowhere said")))
        return BackendError(
            f"the base URL {self.base_url} answered {status}, a redirect to {where}: requests "
            "are not sent on (a POST would arrive as a GET); set the base URL "
            "(ANTHROPIC_BASE_URL, base_url) to the address the API is at",
            status=status,
            error_type="redirect",
        )

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


@lru_cache(maxsize=1)
def _marking_payload() -> type[aiohttp.BytesPayload]:
    """A request body that says when aiohttp has written it (:func:`mark_sent`): the
    attempt then counts as sent. Cheaper than a trace config, whose every event (a dozen
    a request, one per chunk received) costs ~30 µs of CPU per request."""
    import aiohttp

    class MarkingPayload(aiohttp.BytesPayload):
        async def write(self, writer: AbstractStreamWriter) -> None:  # aiohttp < 3.12
            await super().write(writer)
            mark_sent()

        async def write_with_length(
            self, writer: AbstractStreamWriter, content_length: int | None
        ) -> None:
            await super().write_with_length(writer, content_length)
            mark_sent()

    return MarkingPayload
