"""What every LLM backend speaks: a request, a reply, an error, and the protocol.

The engine (limits, retries, accounting) is written against :class:`Backend` only,
so the Anthropic backend, a user's own backend and the in-process fake are
interchangeable.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from types import TracebackType
from typing import Any, Final, Protocol, Self, runtime_checkable

import orjson

from ..errors import SyngenError, UsageError
from ._pricing import Usage

__all__ = [
    "Backend",
    "BackendError",
    "ClosingBackend",
    "Reply",
    "Request",
    "SharedTool",
    "Sending",
    "mark_sent",
    "prefix_size",
]

#: The line a request whose tool is not forced carries after the cache mark.
USE_TOOL: Final = (
    "Answer only by calling the tool {name} once, with the complete answer as its input."
)
#: Prefix of the rate-limit headers the engine reads on every response.
RATELIMIT_PREFIX = "anthropic-ratelimit-"


class Sending:
    """One attempt's record of whether its bytes went out. The engine opens one around
    each attempt; a backend that can tell (``DirectBackend``: when the body was written)
    calls :func:`mark_sent`. A backend that cannot leaves it unset: its attempt counts as
    sent once it has an answer or an error."""

    __slots__ = ("sent",)

    def __init__(self) -> None:
        self.sent = False


#: The attempt being sent by this task (set by the engine).
SENDING: ContextVar[Sending | None] = ContextVar("syngen_sending", default=None)


def mark_sent() -> None:
    """Say that the current attempt's request bytes went out to the server."""
    sending = SENDING.get()
    if sending is not None:
        sending.sent = True


class SharedTool(dict[str, Any]):
    """A tool definition sent with every request of a run (the submit tool: tens of
    kilobytes), encoded once. It holds its own copy of the definition and cannot be
    changed (build a new one instead), so the encoding cannot go stale."""

    __slots__ = ("digest", "encoded")

    def __init__(self, tool: Mapping[str, Any]) -> None:
        self.encoded = orjson.dumps(tool)
        self.digest = hashlib.sha256(self.encoded).digest()
        super().__init__(orjson.loads(self.encoded))

    def __reduce__(self) -> tuple[Any, ...]:
        return (SharedTool, (dict(self),))

    def _frozen(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("a SharedTool cannot be changed: build a new one")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = _frozen
    __ior__ = _frozen


@dataclass(frozen=True, slots=True)
class Request:
    """One Messages API call.

    ``system`` is sent as text blocks, the last one marked for prompt caching when
    ``cache_system`` is true (it is identical across a run); ``system_extra`` is a
    block that changes per request (sent after the cache mark, so it does not break
    the cached prefix). ``tool_choice`` names the tool the model answers with: forced
    (``force_tool``), or with ``tool_choice`` ``auto`` and a line after the cache mark
    asking for it (a model that thinks may not be forced, by one reading of the docs).
    ``thinking`` / ``effort`` are sent as ``thinking`` and ``output_config.effort`` (see
    ``_thinking``); ``cache_ttl`` is the cache mark's lifetime (``1h`` for batches).
    ``key`` identifies the work item in errors and logs.
    """

    messages: Sequence[Mapping[str, Any]]
    system: str | Sequence[str] = ()
    system_extra: str = ""
    tools: Sequence[Mapping[str, Any]] = ()
    tool_choice: str | None = None
    max_tokens: int = 4096
    model: str | None = None
    cache_system: bool = True
    key: str | None = None
    thinking: Mapping[str, Any] | None = None
    effort: str | None = None
    force_tool: bool = True
    cache_ttl: str = "5m"

    def __post_init__(self) -> None:
        if self.max_tokens <= 0:
            raise UsageError(f"'max_tokens' must be > 0, got {self.max_tokens}")
        if self.tool_choice is not None and not any(
            t.get("name") == self.tool_choice for t in self.tools
        ):
            raise UsageError(f"'tool_choice' names {self.tool_choice!r}, which is not in 'tools'")
        if self.cache_ttl not in ("5m", "1h"):
            raise UsageError(f"'cache_ttl' must be '5m' or '1h', got {self.cache_ttl!r}")

    def own_size(self) -> int:
        """Bytes of what is this request's own: its messages (as JSON) and the system block
        after the cache mark."""
        return len(self.system_extra.encode()) + len(orjson.dumps(list(self.messages)))

    def prefix_size(self) -> int:
        """Bytes of the shared prefix: the tools (as JSON) and the system blocks."""
        return prefix_size(self.system, self.tools)

    def system_blocks(self) -> list[dict[str, Any]]:
        """The system prompt as Messages API text blocks, cache-marked at the end."""
        texts = [self.system] if isinstance(self.system, str) else list(self.system)
        blocks: list[dict[str, Any]] = [{"type": "text", "text": t} for t in texts if t]
        if blocks and self.cache_system:
            blocks[-1]["cache_control"] = _cache_mark(self.cache_ttl)
        blocks.extend({"type": "text", "text": t} for t in self._extra_texts())
        return blocks

    def _extra_texts(self) -> list[str]:
        """The per-request system texts after the cache mark."""
        out = [self.system_extra] if self.system_extra else []
        if self.tool_choice is not None and not self.force_tool:
            out.append(USE_TOOL.format(name=self.tool_choice))
        return out

    def body(self, default_model: str) -> dict[str, Any]:
        """The JSON body of ``POST /v1/messages``."""
        out = self._head(default_model)
        system = self.system_blocks()
        if system:
            out["system"] = system
        return out

    def encoded_body(self, default_model: str) -> bytes:
        """:meth:`body` as JSON bytes. The shared system prompt (tens of kilobytes, the
        same for every request of a run) is encoded once per process, not per request."""
        tools = self.tools
        if tools and all(isinstance(t, SharedTool) for t in tools):  # each encoded once
            head = orjson.dumps(self._head(default_model, tools=False))
            encoded = b",".join(t.encoded for t in tools if isinstance(t, SharedTool))
            head = head[:-1] + b',"tools":[' + encoded + b"]}"
        else:
            head = orjson.dumps(self._head(default_model))
        key = self.system if isinstance(self.system, str) else tuple(self.system)
        blocks = _encoded_blocks(key, self.cache_ttl if self.cache_system else None)
        for text in self._extra_texts():
            extra = orjson.dumps({"type": "text", "text": text})
            blocks = blocks + b"," + extra if blocks else extra
        return head[:-1] + b',"system":[' + blocks + b"]}" if blocks else head

    def digest(self, default_model: str) -> bytes:
        """A SHA-256 of :meth:`encoded_body`'s parts (head, each tool, the system blocks,
        each as its own digest): the same body, the same digest, without hashing the shared
        prefix (tens of kilobytes) again for every request."""
        tools = [
            t.digest if isinstance(t, SharedTool) else _sha(orjson.dumps(t)) for t in self.tools
        ]
        key = self.system if isinstance(self.system, str) else tuple(self.system)
        system = _blocks_digest(key, self.cache_ttl if self.cache_system else None)
        extra = [_sha(t.encode()) for t in self._extra_texts()]
        head = _sha(orjson.dumps(self._head(default_model, tools=False)))
        return _sha(b"".join((head, *tools, b"|", system, *extra)))

    def _head(self, default_model: str, *, tools: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "model": self.model or default_model,
            "max_tokens": self.max_tokens,
            "messages": list(self.messages),
        }
        if self.tools and tools:
            out["tools"] = list(self.tools)
        if self.tool_choice is not None:
            out["tool_choice"] = (
                {"type": "tool", "name": self.tool_choice} if self.force_tool else {"type": "auto"}
            )
        if self.thinking is not None:
            out["thinking"] = dict(self.thinking)
        if self.effort is not None:
            out["output_config"] = {"effort": self.effort}
        return out


def prefix_size(system: str | Sequence[str], tools: Sequence[Mapping[str, Any]]) -> int:
    """Bytes of a prefix of ``tools`` (as JSON) and ``system`` texts (what a request marked
    for caching shares with the others)."""
    texts = [system] if isinstance(system, str) else system
    size = sum(len(t.encode()) for t in texts)
    for tool in tools:
        size += len(tool.encoded if isinstance(tool, SharedTool) else orjson.dumps(tool)) + 1
    return size + 1 if tools else size


def _cache_mark(ttl: str) -> dict[str, str]:
    """A cache mark: the 5-minute default says no ``ttl``; the hour does."""
    return {"type": "ephemeral"} if ttl == "5m" else {"type": "ephemeral", "ttl": ttl}


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


@lru_cache(maxsize=16)
def _blocks_digest(system: str | tuple[str, ...], ttl: str | None) -> bytes:
    """The SHA-256 of :func:`_encoded_blocks` (tens of kilobytes: hashed once a run)."""
    return _sha(_encoded_blocks(system, ttl))


@lru_cache(maxsize=16)
def _encoded_blocks(system: str | tuple[str, ...], ttl: str | None) -> bytes:
    """The cached system blocks of a request, encoded (without the brackets); ``ttl``
    ``None``: not marked for caching."""
    texts = [system] if isinstance(system, str) else list(system)
    blocks: list[dict[str, Any]] = [{"type": "text", "text": t} for t in texts if t]
    if blocks and ttl is not None:
        blocks[-1]["cache_control"] = _cache_mark(ttl)
    return b",".join(orjson.dumps(b) for b in blocks)


@dataclass(frozen=True, slots=True)
class Reply:
    """A model's answer: its content blocks as plain dicts, usage and response facts."""

    content: list[dict[str, Any]]
    usage: Usage
    model: str = ""
    stop_reason: str | None = None
    request_id: str | None = None
    rate_limits: Mapping[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """All text blocks joined."""
        return "".join(b.get("text", "") for b in self.content if b.get("type") == "text")

    def tool_use(self, name: str | None = None) -> dict[str, Any] | None:
        """The first ``tool_use`` block (of tool ``name`` when given), or ``None``."""
        for block in self.content:
            if block.get("type") == "tool_use" and (name is None or block.get("name") == name):
                return block
        return None


class BackendError(SyngenError):
    """A failed call. ``status`` is the HTTP status, or ``None`` when no response came
    back (connection error or timeout). Messages never contain the API key."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_type: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        rate_limits: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_type = error_type
        self.request_id = request_id
        self.retry_after = retry_after
        self.rate_limits: Mapping[str, str] = rate_limits or {}

    def __str__(self) -> str:
        where = f"HTTP {self.status}" if self.status is not None else "no response"
        kind = f" {self.error_type}" if self.error_type else ""
        rid = f" (request-id {self.request_id})" if self.request_id else ""
        return f"{where}{kind}: {self.message}{rid}"


@runtime_checkable
class Backend(Protocol):
    """Sends one request and returns the reply, or raises :class:`BackendError`.

    A backend makes exactly one attempt: retries, rate limits and timeouts belong
    to the engine, so a backend must not retry on its own.
    """

    model: str

    async def send(self, request: Request) -> Reply:
        """One attempt at ``request``."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


class ClosingBackend:
    """Makes a backend an async context manager that calls its ``aclose`` on exit."""

    async def aclose(self) -> None:  # pragma: no cover - every backend defines its own
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def rate_limit_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The ``anthropic-ratelimit-*`` and ``retry-after*`` headers, names lower-cased."""
    out: dict[str, str] = {}
    for k, v in headers.items():
        low = k.lower()
        if low.startswith((RATELIMIT_PREFIX, "retry-after")):
            out[low] = v
    return out
