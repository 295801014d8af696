"""An OpenAI-compatible chat-completions backend (vLLM, Ollama, LM Studio, ...).

Speaks ``POST {base_url}/chat/completions`` over aiohttp (no extra dependency). A
:class:`Request` is translated: the system blocks become one system message, a forced
tool becomes ``tool_choice: {"type": "function", ...}`` (else ``auto``) with ``tools`` as
functions, and ``tool_result`` blocks become ``tool`` messages. Servers without function
calling can be asked for a JSON object instead (``json_mode=True``: ``response_format:
json_object``; the gate then reads the example from the text). One attempt per call, like
every backend: the engine's retry policy and rate limits apply unchanged.

A Claude model behind an OpenAI-compatible gateway (LiteLLM, Portkey) keeps its prompt
cache: when the model id names Claude, the system message goes as text blocks with the
cache mark where the Messages API would put it (the gateways pass ``cache_control`` on),
and the cached and cache-written tokens are read from the usage
(``prompt_tokens_details.cached_tokens``, ``cache_creation_input_tokens``;
``prompt_tokens`` counts them too) and priced as such. ``cache_control="off"`` sends a
plain string, for a server that refuses blocks. ``x-ratelimit-*-requests`` headers are
learned like the Messages API's own.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import orjson

from .._fdlimit import is_out_of_files, out_of_files
from ..errors import UsageError
from ._backend import BackendError, ClosingBackend, Reply, Request
from ._connect import check_base_url, clean_key, extra_headers, secret_values, without_credentials
from ._pricing import Usage, usage_count
from ._redact import Redactor
from ._retry import parse_retry_after
from ._said import BaseURL, connection_error, said

if TYPE_CHECKING:
    import aiohttp

__all__ = ["CacheControl", "OpenAIBackend", "names_claude"]

DEFAULT_BASE_URL = "http://localhost:8000/v1"


def _base(base_url: str | None) -> BaseURL:
    url = base_url or os.environ.get("OPENAI_BASE_URL")
    source = "base_url" if base_url else "OPENAI_BASE_URL"
    return BaseURL(
        check_base_url(url or DEFAULT_BASE_URL, source=source).rstrip("/"),
        source,
        default=not url,
        form="the server's OpenAI-compatible root, usually ending in /v1 (requests go to "
        "BASE/chat/completions)",
    )


CacheControl = Literal["auto", "on", "off"]


def _messages(request: Request, marks: bool) -> list[dict[str, Any]]:
    """Messages API turns -> chat-completions messages (``marks``: the system message as
    text blocks with their cache mark)."""
    out: list[dict[str, Any]] = []
    blocks = request.system_blocks()
    if blocks and marks:
        out.append({"role": "system", "content": blocks})
    elif blocks:
        out.append({"role": "system", "content": "\n\n".join(b["text"] for b in blocks)})
    for msg in request.messages:
        role, content = msg.get("role"), msg.get("content")
        if isinstance(content, str):
            out.append({"role": role, "content": content})
            continue
        blocks = content if isinstance(content, list) else []
        if role == "assistant":
            text = "".join(b.get("text", "") for b in blocks if b.get("type") == "text")
            calls = [
                {
                    "id": b.get("id", ""),
                    "type": "function",
                    "function": {
                        "name": b.get("name", ""),
                        "arguments": orjson.dumps(b.get("input", {})).decode(),
                    },
                }
                for b in blocks
                if b.get("type") == "tool_use"
            ]
            turn: dict[str, Any] = {"role": "assistant", "content": text or None}
            if calls:
                turn["tool_calls"] = calls
            out.append(turn)
            continue
        for b in blocks:
            if b.get("type") == "tool_result":
                body = b.get("content", "")
                text = body if isinstance(body, str) else orjson.dumps(body).decode()
                out.append(
                    {"role": "tool", "tool_call_id": b.get("tool_use_id", ""), "content": text}
                )
            elif b.get("type") == "text":
                out.append({"role": "user", "content": b.get("text", "")})
    return out


def _payload(request: Request, model: str, json_mode: bool, marks: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": request.model or model,
        "messages": _messages(request, marks),
        "max_tokens": request.max_tokens,
    }
    if json_mode:
        body["response_format"] = {"type": "json_object"}
        return body
    if request.tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": t["name"],
                    "description": t.get("description", ""),
                    "parameters": t.get("input_schema", {}),
                },
            }
            for t in request.tools
        ]
    if request.tool_choice is not None:
        body["tool_choice"] = (
            {"type": "function", "function": {"name": request.tool_choice}}
            if request.force_tool
            else "auto"
        )
    return body


def _reply(data: Mapping[str, Any], headers: Mapping[str, str], redact: Redactor) -> Reply:
    choice = (data.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    content: list[dict[str, Any]] = []
    if message.get("content"):
        content.append({"type": "text", "text": str(message["content"])})
    for call in message.get("tool_calls") or []:
        fn = call.get("function") or {}
        try:
            args = orjson.loads(fn.get("arguments") or "{}")
        except orjson.JSONDecodeError:
            content.append({"type": "text", "text": str(fn.get("arguments"))})
            continue
        content.append(
            {"type": "tool_use", "id": call.get("id", ""), "name": fn.get("name"), "input": args}
        )
    finish = choice.get("finish_reason")
    stop = {"tool_calls": "tool_use", "length": "max_tokens", "stop": "end_turn"}.get(
        str(finish), finish
    )
    return Reply(
        content=content,
        usage=_usage(data.get("usage") or {}),
        model=redact(str(data.get("model", "")), limit=100),
        stop_reason=stop if isinstance(stop, str) else None,
        request_id=redact.optional(headers.get("x-request-id") or data.get("id")),
        rate_limits=_rate_limits(headers),
    )


def _usage(usage: Mapping[str, Any]) -> Usage:
    """A chat completion's usage as the Messages API counts it: ``prompt_tokens`` counts
    every input token, the cache reads (``prompt_tokens_details.cached_tokens``, or a
    gateway's ``cache_read_input_tokens``) and writes (``cache_creation_input_tokens``)
    included; ``input`` is what is left."""
    if not isinstance(usage, Mapping):
        raise ValueError("usage is not an object")
    details = usage.get("prompt_tokens_details") or {}
    if not isinstance(details, Mapping):
        raise ValueError("usage.prompt_tokens_details is not an object")
    read = usage_count(details, "cached_tokens") or usage_count(usage, "cache_read_input_tokens")
    written = usage_count(usage, "cache_creation_input_tokens")
    prompt = usage_count(usage, "prompt_tokens")
    return Usage(
        input=max(0, prompt - read - written),
        output=usage_count(usage, "completion_tokens"),
        cache_read=read,
        cache_creation=written,
    )


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def _rate_limits(headers: Mapping[str, str]) -> dict[str, str]:
    """OpenAI's ``x-ratelimit-*-requests`` headers in the Messages API's names (the one
    vocabulary the rate limiter reads; a reset like ``6m0s`` as the time it comes), and
    ``retry-after``. Token limits are left out: OpenAI counts input and output together,
    which no bucket of ours is."""
    out = {k: v for k, v in headers.items() if k.startswith("retry-after")}
    for ours, theirs in (("limit", "limit"), ("remaining", "remaining")):
        value = headers.get(f"x-ratelimit-{theirs}-requests")
        if value is not None:
            out[f"anthropic-ratelimit-requests-{ours}"] = value
    reset = headers.get("x-ratelimit-reset-requests")
    if reset:
        parts = _DURATION.findall(reset)
        if parts:
            seconds = sum(float(n) * _UNIT[unit] for n, unit in parts)
            when = datetime.now(UTC) + timedelta(seconds=seconds)
            out["anthropic-ratelimit-requests-reset"] = when.isoformat()
    return out


def names_claude(model: str) -> bool:
    """Whether a model id names a Claude model (``claude-...``, ``anthropic/claude-...``,
    ``anthropic.claude-...``)."""
    return "claude" in model.lower()


class OpenAIBackend(ClosingBackend):
    """Chat completions at ``base_url`` (``OPENAI_BASE_URL``, default ``{DEFAULT_BASE_URL}``)
    with ``api_key`` (``OPENAI_API_KEY``; local servers often need none)."""

    #: Tools go out as functions without Anthropic's ``strict`` (the improver asks so).
    strict_tools = False
    #: Chat completions have no ``thinking`` parameter: a model that thinks by default
    #: does here, so its tool is not forced (the engine shapes requests so).
    sends_thinking = False

    def __init__(
        self,
        *,
        model: str,
        api_key: str | None = None,
        base_url: str | None = None,
        json_mode: bool = False,
        cache_control: CacheControl = "auto",
        default_headers: Mapping[str, str] | None = None,
    ) -> None:
        if not model:
            raise UsageError("'model' must be a non-empty model id")
        if cache_control not in ("auto", "on", "off"):
            raise UsageError(
                f"'cache_control' must be 'auto', 'on' or 'off', got {cache_control!r}"
            )
        self.model = model
        source = "api_key" if api_key is not None else "OPENAI_API_KEY"
        key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY", "")
        self._key = clean_key(key, source=source)
        self.base = _base(base_url)
        self.base_url = self.base.url
        #: Whether the system prompt carries the cache mark (the engine then expects reads).
        self.marks_cache = cache_control == "on" or (
            cache_control == "auto" and names_claude(model) and not json_mode
        )
        self.cache_scope = (
            f"openai-chat {self.base_url} json_mode={json_mode} marks={self.marks_cache}"
        )
        self.json_mode = json_mode
        self._headers = {"content-type": "application/json"}
        if self._key:
            self._headers["authorization"] = f"Bearer {self._key}"
        extra = extra_headers(default_headers)
        self._headers.update(extra)
        self._redact = Redactor(self._key, secret_values(extra))
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"OpenAIBackend(model={self.model!r}, base_url={self.base_url!r})"

    async def send(self, request: Request) -> Reply:
        """One attempt; failures become :class:`BackendError` without the key."""
        import aiohttp  # here, not at import: it costs 0.1 s to every command otherwise

        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(None)
            )
        body = orjson.dumps(_payload(request, self.model, self.json_mode, self.marks_cache))
        try:
            async with self._session.post(
                f"{self.base_url}/chat/completions",
                data=body,
                headers=self._headers,
                allow_redirects=False,
            ) as resp:
                raw = await resp.read()
                status, resp_headers = resp.status, {k.lower(): v for k, v in resp.headers.items()}
        except (aiohttp.ClientError, OSError) as exc:
            if is_out_of_files(exc):  # our process's limit, not the service
                raise out_of_files() from None
            raise connection_error(exc, self.base, self._redact) from None
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            data = {}
        if status != 200:
            raise self._status_error(status, data, raw, resp_headers)
        if not isinstance(data, dict) or "choices" not in data:
            raise BackendError("the reply body is not a chat completion", error_type="bad_response")
        try:
            return _reply(data, resp_headers, self._redact)
        except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
            raise BackendError(
                self._redact(f"the reply does not match a chat completion: {exc}", limit=300),
                error_type="bad_response",
            ) from None

    def _status_error(
        self, status: int, data: Any, raw: bytes, headers: Mapping[str, str]
    ) -> BackendError:
        text, kind = said(
            status,
            data,
            raw,
            base=self.base,
            path="/chat/completions",
            key="OPENAI_API_KEY / api_key",
            gateway=True,  # there is no one host of "the" API here
        )
        if 300 <= status < 400:
            where = without_credentials(headers.get("location", "nowhere said"))
            text = f"a redirect to {where}, not followed (the key would go with it): {text}"
        return BackendError(
            self._redact(text),
            status=status,
            error_type=self._redact.optional(kind),
            retry_after=parse_retry_after(headers),
            rate_limits=_rate_limits(headers),
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
