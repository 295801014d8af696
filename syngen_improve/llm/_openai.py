"""An OpenAI-compatible chat-completions backend (vLLM, Ollama, LM Studio, ...).

Speaks ``POST {base_url}/chat/completions`` over aiohttp (no extra dependency). A
:class:`Request` is translated: the system blocks become one system message, a forced
tool becomes ``tool_choice: {"type": "function", ...}`` with ``tools`` as functions, and
``tool_result`` blocks become ``tool`` messages. Servers without function calling can be
asked for a JSON object instead (``json_mode=True``: ``response_format: json_object``; the
gate then reads the example from the text). One attempt per call, like every backend:
the engine's retry policy and rate limits apply unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson

from .._fdlimit import is_out_of_files, out_of_files
from ..errors import UsageError
from ._backend import BackendError, ClosingBackend, Reply, Request
from ._connect import check_base_url, clean_key
from ._pricing import Usage, usage_count
from ._redact import Redactor
from ._retry import parse_retry_after

if TYPE_CHECKING:
    import aiohttp

__all__ = ["OpenAIBackend"]

DEFAULT_BASE_URL = "http://localhost:8000/v1"


def _messages(request: Request) -> list[dict[str, Any]]:
    """Messages API turns -> chat-completions messages."""
    out: list[dict[str, Any]] = []
    system = "\n\n".join(b["text"] for b in request.system_blocks())
    if system:
        out.append({"role": "system", "content": system})
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


def _payload(request: Request, model: str, json_mode: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": request.model or model,
        "messages": _messages(request),
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
        body["tool_choice"] = {"type": "function", "function": {"name": request.tool_choice}}
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
    usage = data.get("usage") or {}
    return Reply(
        content=content,
        usage=Usage(
            input=usage_count(usage, "prompt_tokens"),
            output=usage_count(usage, "completion_tokens"),
        ),
        model=redact(str(data.get("model", "")), limit=100),
        stop_reason=stop if isinstance(stop, str) else None,
        request_id=redact.optional(headers.get("x-request-id") or data.get("id")),
    )


class OpenAIBackend(ClosingBackend):
    """Chat completions at ``base_url`` (``OPENAI_BASE_URL``, default ``{DEFAULT_BASE_URL}``)
    with ``api_key`` (``OPENAI_API_KEY``; local servers often need none)."""

    #: Tools go out as functions without Anthropic's ``strict`` (the improver asks so).
    strict_tools = False
    #: Chat completions carry no cache mark: the engine does not look for cache reads.
    marks_cache = False

    def __init__(
        self,
        *,
        model: str,
        api_key: str | None = None,
        base_url: str | None = None,
        json_mode: bool = False,
    ) -> None:
        if not model:
            raise UsageError("'model' must be a non-empty model id")
        self.model = model
        source = "api_key" if api_key is not None else "OPENAI_API_KEY"
        key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY", "")
        self._key = clean_key(key, source=source)
        self._redact = Redactor(self._key)
        url = base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        source = "base_url" if base_url else "OPENAI_BASE_URL"
        self.base_url = check_base_url(url, source=source).rstrip("/")
        self.cache_scope = f"openai-chat {self.base_url} json_mode={json_mode}"
        self.json_mode = json_mode
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
        headers = {"content-type": "application/json"}
        if self._key:
            headers["authorization"] = f"Bearer {self._key}"
        body = orjson.dumps(_payload(request, self.model, self.json_mode))
        try:
            async with self._session.post(
                f"{self.base_url}/chat/completions", data=body, headers=headers
            ) as resp:
                raw = await resp.read()
                status, resp_headers = resp.status, {k.lower(): v for k, v in resp.headers.items()}
        except (aiohttp.ClientError, OSError) as exc:
            if is_out_of_files(exc):  # our process's limit, not the service
                raise out_of_files() from None
            message = self._redact(f"connection error: {type(exc).__name__}: {exc}")
            raise BackendError(message, error_type="connection") from None
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            data = {}
        if status != 200:
            err = data.get("error") if isinstance(data, dict) else None
            text = (
                err.get("message") if isinstance(err, dict) else raw[:200].decode(errors="replace")
            )
            kind = err.get("type") if isinstance(err, dict) else None
            raise BackendError(
                self._redact(str(text)),
                status=status,
                error_type=self._redact.optional(kind),
                retry_after=parse_retry_after(resp_headers),
            )
        if not isinstance(data, dict) or "choices" not in data:
            raise BackendError("the reply body is not a chat completion", error_type="bad_response")
        try:
            return _reply(data, resp_headers, self._redact)
        except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
            raise BackendError(
                self._redact(f"the reply does not match a chat completion: {exc}", limit=300),
                error_type="bad_response",
            ) from None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
