"""A local stand-in for an LLM gateway (LiteLLM's proxy, as measured with 1.108.7 and as
its docs describe it) in front of an Anthropic origin: our fake with a key of its own.

Routes, each taking the gateway's own key (``x-litellm-api-key``, else ``Authorization:
Bearer``, else ``x-api-key``) and sending the origin the gateway's upstream key — or, with
none configured, the client's own ``x-api-key`` when the gateway key came in
``x-litellm-api-key`` (bring your own key):

- ``/v1/messages``, the native route: the answer loses ``request-id`` and the
  ``anthropic-ratelimit-*`` headers; a 429 or 529 from the origin is retried here (the
  client sees it only when the retries run out), and a 529 is passed on as a 500.
- ``/anthropic/{path}``, the pass-through: the request and the answer as they are.
- ``/v1/chat/completions``: OpenAI's format translated to the Messages API and back;
  a system message's text blocks keep their ``cache_control``, and the usage follows
  LiteLLM's documented shape (``prompt_tokens`` counts every input token,
  ``prompt_tokens_details.cached_tokens`` the cache reads, ``cache_creation_input_tokens``
  the writes); the origin's rate-limit headers come back as ``x-ratelimit-*``.

Errors in the gateway's own words, not Anthropic's ``error`` object: an unknown model
(``{"detail": {"error": ...}}``), a missing credential (``{"detail": "..."}``), and any
path it does not know (a plain-text 404). It records every request it got.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from tests.threaded import Threaded

NO_CREDENTIAL = (
    "No Anthropic credential is configured on this proxy: set ANTHROPIC_API_KEY where the "
    "proxy runs, or send your own key in x-api-key"
)
_HOP = {"content-length", "content-encoding", "transfer-encoding", "connection", "host"}


@dataclass
class Seen:
    """One request the gateway got: its path and the credentials it carried."""

    path: str
    gateway_key: str | None
    provider_key: str | None
    headers: dict[str, str] = field(default_factory=dict)


class Gateway:
    """``with Gateway(origin, keys={...}) as gw:`` serves on ``gw.url`` from its own thread.
    ``upstream_key``: what the origin is sent (``None``: the client's own key, if any);
    ``models``: the model ids it routes (any other is an unknown model)."""

    def __init__(
        self,
        origin: str,
        *,
        keys: frozenset[str],
        upstream_key: str | None,
        models: frozenset[str],
        retries: int = 3,
    ) -> None:
        self.origin = origin.rstrip("/")
        self.keys, self.upstream_key, self.models = keys, upstream_key, models
        self.retries = retries
        self.seen: list[Seen] = []
        self.upstream_statuses: list[int] = []
        self.usages: list[dict[str, int]] = []  # each answered request's usage, as the origin said
        self._session: aiohttp.ClientSession | None = None
        self._server = Threaded(self._handle, on_close=self._close)

    @property
    def url(self) -> str:
        return self._server.url

    def __enter__(self) -> Gateway:
        self._server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.__exit__(*exc)

    async def _close(self) -> None:
        if self._session is not None:
            await self._session.close()

    # -- routing ---------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        h = {k.lower(): v for k, v in request.headers.items()}
        bearer = h.get("authorization", "")
        bearer = bearer[7:] if bearer.lower().startswith("bearer ") else None
        gateway_key = h.get("x-litellm-api-key") or bearer or h.get("x-api-key")
        own = h.get("x-api-key") if "x-litellm-api-key" in h else None
        self.seen.append(Seen(request.path, gateway_key, own, h))
        if gateway_key not in self.keys:  # echoing what it got, as LiteLLM does
            return _detail(401, f"Authentication Error, invalid proxy key: {gateway_key}")
        provider_key = self.upstream_key or own
        body = await request.read()
        path = request.path
        if path.startswith("/anthropic/"):
            if provider_key is None:
                return _detail(401, NO_CREDENTIAL)
            tail = path[len("/anthropic") :]
            return await self._pass_through(request.method, tail, request.query_string, h, body)
        if path not in ("/v1/messages", "/v1/chat/completions") or request.method != "POST":
            return web.Response(status=404, text="Not Found")
        data = orjson.loads(body)
        if data.get("model") not in self.models:
            return _detail(
                400,
                {
                    "error": f"{path}: Invalid model name passed in model={data.get('model')}. "
                    "Call `/v1/models` to view available models for your key."
                },
            )
        if provider_key is None:
            return _detail(401, NO_CREDENTIAL)
        if path == "/v1/messages":
            return await self._native(data, h, provider_key)
        return await self._chat(data, provider_key)

    # -- the origin ------------------------------------------------------------------

    async def _origin(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes | None
    ) -> tuple[int, dict[str, str], bytes]:
        if self._session is None:
            self._session = aiohttp.ClientSession(auto_decompress=False)
        data = io.BytesIO(body) if body is not None else None  # aiohttp warns on big bytes
        async with self._session.request(
            method, f"{self.origin}{path}", headers=headers, data=data, allow_redirects=False
        ) as resp:
            raw = await resp.read()
            self.upstream_statuses.append(resp.status)
            if resp.status == 200 and path == "/v1/messages":
                self.usages.append(orjson.loads(_inflate(dict(resp.headers), raw))["usage"])
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, raw

    @staticmethod
    def _upstream_headers(h: Mapping[str, str], key: str) -> dict[str, str]:
        keep = ("anthropic-version", "anthropic-beta", "content-type", "accept")
        return {**{k: v for k, v in h.items() if k in keep}, "x-api-key": key}

    async def _pass_through(
        self, method: str, path: str, query: str, h: Mapping[str, str], body: bytes
    ) -> web.Response:
        provider_key = self.upstream_key or h.get("x-api-key", "")
        target = f"{path}?{query}" if query else path
        status, headers, raw = await self._origin(
            method, target, self._upstream_headers(h, provider_key), body or None
        )
        raw = _inflate(headers, raw)
        kept = {k: v for k, v in headers.items() if k not in _HOP}
        return web.Response(status=status, headers=kept, body=raw)

    async def _native(self, data: dict[str, Any], h: Mapping[str, str], key: str) -> web.Response:
        headers = self._upstream_headers(h, key)
        body = orjson.dumps(data)
        for attempt in range(self.retries + 1):
            status, out, raw = await self._origin("POST", "/v1/messages", headers, body)
            if status not in (429, 529) or attempt == self.retries:
                break
            await asyncio.sleep(0.01)
        kept = {
            k: v
            for k, v in out.items()
            if k not in _HOP and k != "request-id" and not k.startswith("anthropic-ratelimit-")
        }
        raw = _inflate(out, raw)
        return web.Response(status=500 if status == 529 else status, headers=kept, body=raw)

    async def _chat(self, data: dict[str, Any], key: str) -> web.Response:
        body = _to_messages(data)
        headers = {
            "x-api-key": key,
            "anthropic-version": "2026-10-21",
            "content-type": "application/json",
        }
        status, out, raw = await self._origin("POST", "/v1/messages", headers, orjson.dumps(body))
        raw = _inflate(out, raw)
        if status != 200:
            message = (orjson.loads(raw).get("error") or {}).get("message", raw.decode())
            return web.json_response(
                {"error": {"message": f"AnthropicException - {message}", "type": None}},
                status=status,
            )
        limits = {
            f"x-ratelimit-{name}-requests": out[f"anthropic-ratelimit-requests-{name}"]
            for name in ("limit", "remaining")
            if f"anthropic-ratelimit-requests-{name}" in out
        }
        return web.Response(
            body=orjson.dumps(_to_chat(orjson.loads(raw))),
            headers={"content-type": "application/json", **limits},
        )


def _detail(status: int, detail: object) -> web.Response:
    return web.json_response({"detail": detail}, status=status)


def _inflate(headers: Mapping[str, str], raw: bytes) -> bytes:
    if "gzip" in {k.lower(): v for k, v in headers.items()}.get("content-encoding", ""):
        import gzip

        return gzip.decompress(raw)
    return raw


def _to_messages(data: Mapping[str, Any]) -> dict[str, Any]:
    """An OpenAI chat request as a Messages API request (the parts our client sends)."""
    system: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    for m in data["messages"]:
        role, content = m["role"], m.get("content")
        if role == "system":
            if isinstance(content, str):
                system.append({"type": "text", "text": content})
            else:
                system += [
                    {k: v for k, v in b.items() if k in ("type", "text", "cache_control")}
                    for b in content
                ]
        elif role == "tool":
            block = {"type": "tool_result", "tool_use_id": m["tool_call_id"], "content": content}
            messages.append({"role": "user", "content": [block]})
        elif role == "assistant":
            blocks: list[dict[str, Any]] = [{"type": "text", "text": content}] if content else []
            for call in m.get("tool_calls") or []:
                fn = call["function"]
                blocks.append(
                    {
                        "type": "tool_use",
                        "id": call["id"],
                        "name": fn["name"],
                        "input": orjson.loads(fn["arguments"]),
                    }
                )
            messages.append({"role": "assistant", "content": blocks})
        else:
            messages.append({"role": "user", "content": content})
    body: dict[str, Any] = {
        "model": data["model"],
        "max_tokens": data["max_tokens"],
        "messages": messages,
    }
    if system:
        body["system"] = system
    if data.get("tools"):
        body["tools"] = [
            {
                "name": t["function"]["name"],
                "description": t["function"].get("description", ""),
                "input_schema": t["function"].get("parameters", {}),
            }
            for t in data["tools"]
        ]
    choice = data.get("tool_choice")
    if isinstance(choice, dict):
        body["tool_choice"] = {"type": "tool", "name": choice["function"]["name"]}
    return body


def _to_chat(reply: Mapping[str, Any]) -> dict[str, Any]:
    """A Messages API answer as an OpenAI chat completion, usage as LiteLLM gives it."""
    text = "".join(b.get("text", "") for b in reply["content"] if b["type"] == "text")
    calls = [
        {
            "id": b["id"],
            "type": "function",
            "function": {"name": b["name"], "arguments": orjson.dumps(b["input"]).decode()},
        }
        for b in reply["content"]
        if b["type"] == "tool_use"
    ]
    u = reply["usage"]
    read, written = u.get("cache_read_input_tokens", 0), u.get("cache_creation_input_tokens", 0)
    finish = {"tool_use": "tool_calls", "max_tokens": "length"}.get(reply["stop_reason"], "stop")
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = calls
    return {
        "id": f"chatcmpl-{reply['id']}",
        "object": "chat.completion",
        "model": reply["model"],
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": u["input_tokens"] + read + written,
            "completion_tokens": u["output_tokens"],
            "total_tokens": u["input_tokens"] + read + written + u["output_tokens"],
            "prompt_tokens_details": {"cached_tokens": read},
            "cache_creation_input_tokens": written,
        },
    }
