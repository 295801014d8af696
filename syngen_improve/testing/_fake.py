"""The fake Anthropic Messages API: wire format, faults, rate limits, counters.

:class:`FakeAnthropic` answers one HTTP request at a time through :meth:`handle`;
the real HTTP server and the in-process transport (``_server.py``) only adapt it,
so both behave identically.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import itertools
import json
import math
import random
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import orjson

from .._grammar import parse_tool_calls
from .._model import DIMENSIONS
from ._model import FakeModel, example_key, find_example

__all__ = [
    "BAD_OUTPUTS",
    "FAULTS",
    "Counters",
    "DropConnection",
    "FakeAnthropic",
    "FakeConfig",
    "FakeResponse",
]

FAULTS: Final = ("429", "529", "500", "drop", "hang")
BAD_OUTPUTS: Final = ("truncated_json", "broken_rules", "wrong_tool", "text_json")
IMPROVE_TOOL: Final = "submit_improved_example"
JUDGE_TOOL: Final = "submit_scores"
_UNSUPPORTED: Final = ("temperature", "top_p", "top_k")


class DropConnection(Exception):
    """Raised by :meth:`FakeAnthropic.handle` to close the connection without a reply."""


@dataclass(frozen=True)
class FakeConfig:
    """The fake server's knobs.

    - ``latency`` / ``jitter``: seconds added to each successful reply (uniform jitter).
    - ``rpm`` / ``input_tpm`` / ``output_tpm``: server limits; over them the reply is a
      429 with ``retry-after``. Buckets start full and refill continuously.
    - ``fault_rates``: probability per request of each fault (``429``, ``529``, ``500``,
      ``drop``, ``hang``); ``first_faults``: the first requests *for each example* fail
      with these faults in order, then it succeeds (deterministic retries in tests).
    - ``bad_output_rates`` / ``first_bad_outputs``: the same for bad model output
      (``truncated_json``, ``broken_rules``, ``wrong_tool``, ``text_json``).
    - ``retry_after``: seconds sent with fault 429s (rate-limit 429s compute their own).
    - ``api_key``: when set, any other key gets a 401.
    - ``hang_seconds``: how long a hung request waits before the server gives up.
    - ``batch_delay``: seconds a Message Batch takes to end; ``batch_expire_rate``: the share
      of a batch's requests that expire (the faults above become ``errored`` results).
    """

    latency: float = 0.0
    jitter: float = 0.0
    rpm: int | None = None
    input_tpm: int | None = None
    output_tpm: int | None = None
    fault_rates: Mapping[str, float] = field(default_factory=dict)
    first_faults: Sequence[str] = ()
    bad_output_rates: Mapping[str, float] = field(default_factory=dict)
    first_bad_outputs: Sequence[str] = ()
    retry_after: float = 1.0
    api_key: str | None = None
    hang_seconds: float = 3600.0
    batch_delay: float = 0.0
    batch_expire_rate: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.batch_expire_rate <= 1:
            raise ValueError("'batch_expire_rate' must be between 0 and 1")
        for name in ("latency", "jitter", "retry_after", "hang_seconds", "batch_delay"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name!r} must be >= 0")
        for name in ("rpm", "input_tpm", "output_tpm"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name!r} must be > 0")
        for name, known, rates, firsts in (
            ("fault", FAULTS, self.fault_rates, self.first_faults),
            ("bad output", BAD_OUTPUTS, self.bad_output_rates, self.first_bad_outputs),
        ):
            for kind in [*rates, *firsts]:
                if kind not in known:
                    raise ValueError(f"unknown {name} {kind!r}; expected one of {known}")
            if sum(rates.values()) > 1 or any(r < 0 for r in rates.values()):
                raise ValueError(f"{name} rates must be >= 0 and sum to at most 1")


@dataclass
class Counters:
    """What the fake saw. ``per_example`` counts requests by example content hash."""

    requests: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    bad_outputs: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    per_example: Counter[str] = field(default_factory=Counter)
    started: list[float] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    batches_created: int = 0
    batch_custom_ids: Counter[str] = field(default_factory=Counter)

    def snapshot(self) -> dict[str, Any]:
        """A plain-dict copy, safe to keep after the server moves on."""
        return {
            "requests": self.requests,
            "by_status": dict(self.by_status),
            "faults": dict(self.faults),
            "bad_outputs": dict(self.bad_outputs),
            "rate_limited": self.rate_limited,
            "max_in_flight": self.max_in_flight,
            "examples": len(self.per_example),
            "max_per_example": max(self.per_example.values(), default=0),
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "batches_created": self.batches_created,
            "batch_requests": sum(self.batch_custom_ids.values()),
            "max_per_custom_id": max(self.batch_custom_ids.values(), default=0),
        }


@dataclass(frozen=True, slots=True)
class FakeResponse:
    """One HTTP answer."""

    status: int
    headers: dict[str, str]
    body: bytes


class _Bucket:
    """A token bucket that starts full and refills continuously."""

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.level = float(per_minute)
        self.rate = per_minute / 60.0
        self.stamp = time.monotonic()

    def refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_for(self, amount: float) -> float:
        """Seconds until ``amount`` is available (0 when it is now)."""
        missing = min(amount, self.capacity) - self.level
        return 0.0 if missing <= 1e-9 else missing / self.rate

    def reset_at(self, now: float) -> float:
        return now + (self.capacity - self.level) / self.rate


def _tokens(data: Any) -> int:
    """A rough token count: a quarter of the UTF-8 bytes of the JSON text."""
    raw = data.encode() if isinstance(data, str) else orjson.dumps(data)
    return max(1, math.ceil(len(raw) / 4))


def _block_texts(content: Any) -> list[str]:
    """Text of a message's content: a string, or text / tool_result blocks."""
    if isinstance(content, str):
        return [content]
    out: list[str] = []
    if isinstance(content, list):
        for block in content:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text":
                out.append(str(block.get("text", "")))
            elif block.get("type") == "tool_result":
                out.extend(_block_texts(block.get("content", "")))
    return out


def _find_in_messages(messages: Sequence[Any]) -> dict[str, Any] | None:
    """The example to work on: the last one in the final user message, else the
    latest earlier user message that holds one (a re-ask carries only errors)."""
    for msg in reversed(messages):
        if isinstance(msg, dict) and msg.get("role") == "user":
            for text in reversed(_block_texts(msg.get("content"))):
                found = find_example(text)
                if found is not None:
                    return found
    return None


def _http_date(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeAnthropic:
    """An Anthropic-compatible Messages API with knobs (see :class:`FakeConfig`).

    Serve it over real HTTP with :class:`~syngen_improve.testing.FakeAnthropicServer`
    or in-process with :meth:`transport`. ``counters`` records what it saw.
    """

    def __init__(self, config: FakeConfig | None = None, *, model: FakeModel | None = None) -> None:
        self.config = config or FakeConfig()
        self.model = model or FakeModel()
        self.counters = Counters()
        self._rng = random.Random(self.config.seed)
        self._ids = itertools.count(1)
        self._cached: set[str] = set()
        self._hung: set[asyncio.Future[None]] = set()
        self.batches: dict[str, Any] = {}
        self._buckets = {
            name: _Bucket(limit)
            for name, limit in (
                ("requests", self.config.rpm),
                ("input-tokens", self.config.input_tpm),
                ("output-tokens", self.config.output_tpm),
            )
            if limit is not None
        }

    # -- HTTP ------------------------------------------------------------------

    async def handle(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> FakeResponse:
        """Answer one request (raises :class:`DropConnection` to drop it)."""
        c = self.counters
        c.requests += 1
        c.started.append(time.monotonic())
        c.in_flight += 1
        c.max_in_flight = max(c.max_in_flight, c.in_flight)
        try:
            response = await self._handle(method, path, headers, body)
        except DropConnection:
            c.by_status[0] += 1
            raise
        finally:
            c.in_flight -= 1
        c.by_status[response.status] += 1
        return response

    def transport(self) -> Any:
        """An in-process ``httpx2`` transport serving this fake (no sockets)."""
        from ._server import in_process_transport

        return in_process_transport(self)

    def _request_id(self) -> str:
        return f"req_fake{next(self._ids):016d}"

    def _error(
        self, status: int, kind: str, message: str, headers: dict[str, str] | None = None
    ) -> FakeResponse:
        rid = self._request_id()
        body = {"type": "error", "error": {"type": kind, "message": message}, "request_id": rid}
        out = {"content-type": "application/json", "request-id": rid, **(headers or {})}
        return FakeResponse(status, out, orjson.dumps(body))

    async def _handle(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> FakeResponse:
        lowered = {k.lower(): v for k, v in headers.items()}
        route = path.split("?", 1)[0].rstrip("/")
        batches = route.startswith("/v1/messages/batches")
        openai = route == "/v1/chat/completions"
        if route != "/v1/messages" and not batches and not openai:
            return self._error(404, "not_found_error", f"no route {method} {path}")
        key = lowered.get("x-api-key")
        auth = lowered.get("authorization", "")
        if auth.lower().startswith("bearer "):
            key = auth[7:].strip()
        if not key or (self.config.api_key is not None and key != self.config.api_key):
            return self._error(401, "authentication_error", "invalid x-api-key")
        if openai:
            from ._openai import handle_chat

            return await handle_chat(self, method, body)
        if "anthropic-version" not in lowered:
            return self._error(400, "invalid_request_error", "anthropic-version header is required")
        if batches:
            from ._batches import handle_batches

            return handle_batches(self, method, route, lowered.get("host", "127.0.0.1"), body)
        if method != "POST":
            return self._error(405, "invalid_request_error", f"{method} is not allowed here")
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return self._error(400, "invalid_request_error", f"body is not JSON: {exc}")
        problem = self._check(payload)
        if problem:
            return self._error(400, "invalid_request_error", problem)

        example, attempt, fault = self._attempt(payload)
        if fault is not None:
            if fault == "429":
                after = self.config.retry_after
                return self._error(
                    429, "rate_limit_error", "fault injected: rate limited",
                    {"retry-after": _seconds(after)},
                )  # fmt: skip
            if fault == "529":
                return self._error(529, "overloaded_error", "fault injected: overloaded")
            if fault == "500":
                return self._error(500, "api_error", "fault injected: internal error")
            if fault == "drop":
                raise DropConnection
            await self._hang()
            return self._error(500, "api_error", "hang ended")

        input_tokens = self._input_tokens(payload)
        limited = self._rate_limit(input_tokens)
        if limited is not None:
            return limited

        delay = self.config.latency + self.config.jitter * self._rng.random()
        if delay:
            await asyncio.sleep(delay)
        bad = self._pick(self.config.first_bad_outputs, self.config.bad_output_rates, attempt)
        return self._reply(payload, example, input_tokens, bad)

    def _check(self, payload: Any) -> str | None:
        if not isinstance(payload, dict):
            return "body must be a JSON object"
        for name in _UNSUPPORTED:
            if name in payload:
                return f"{name}: this parameter is not supported by this model"
        if not isinstance(payload.get("model"), str):
            return "model: field required"
        max_tokens = payload.get("max_tokens")
        if not isinstance(max_tokens, int) or max_tokens < 1:
            return "max_tokens: field required, an integer >= 1"
        messages = payload.get("messages")
        if not isinstance(messages, list) or not messages:
            return "messages: at least one message is required"
        for i, msg in enumerate(messages):
            if not isinstance(msg, dict) or msg.get("role") not in ("user", "assistant"):
                return f"messages.{i}.role: must be 'user' or 'assistant'"
        choice = payload.get("tool_choice")
        if isinstance(choice, dict) and choice.get("type") == "tool":
            names = {t.get("name") for t in payload.get("tools", []) if isinstance(t, dict)}
            if choice.get("name") not in names:
                return f"tool_choice: tool {choice.get('name')!r} is not in tools"
        return None

    def _attempt(self, payload: Mapping[str, Any]) -> tuple[dict[str, Any] | None, int, str | None]:
        """The example a request is about, which attempt for it this is, and the fault to
        inject (counted), if any: shared by the online, batch and chat-completions routes."""
        example = _find_in_messages(payload["messages"])
        key = self._example_key(example, payload)
        self.counters.per_example[key] += 1
        attempt = self.counters.per_example[key]
        fault = self._pick(self.config.first_faults, self.config.fault_rates, attempt)
        if fault is not None:
            self.counters.faults[fault] += 1
        return example, attempt, fault

    @staticmethod
    def _example_key(example: dict[str, Any] | None, payload: Mapping[str, Any]) -> str:
        return example_key(example if example is not None else {"conversations": payload})

    def _pick(self, firsts: Sequence[str], rates: Mapping[str, float], attempt: int) -> str | None:
        if attempt <= len(firsts):
            return firsts[attempt - 1]
        if rates:
            roll = self._rng.random()
            for kind, rate in rates.items():
                if roll < rate:
                    return kind
                roll -= rate
        return None

    async def _hang(self) -> None:
        """Wait ``hang_seconds`` or until :meth:`close`, whichever comes first."""
        release = asyncio.get_running_loop().create_future()
        self._hung.add(release)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(release, self.config.hang_seconds)
        finally:
            self._hung.discard(release)

    def close(self) -> None:
        """Release hung requests (the server calls this when it stops)."""
        for release in list(self._hung):
            release.get_loop().call_soon_threadsafe(_set_done, release)

    # -- limits ----------------------------------------------------------------

    def _input_tokens(self, payload: Mapping[str, Any]) -> dict[str, int]:
        """Input split as the API reports it. A cache mark on a system block caches the
        tools and the system blocks up to that mark (the prefix); the rest is input."""
        system, tools = payload.get("system"), payload.get("tools")
        blocks = system if isinstance(system, list) else ([system] if system else [])
        marks = [i for i, b in enumerate(blocks) if isinstance(b, dict) and "cache_control" in b]
        cut = marks[-1] + 1 if marks else 0
        prefix = blocks[:cut]
        rest = blocks[cut:]
        cached = (_tokens(prefix) + (_tokens(tools) if tools else 0)) if marks else 0
        uncached = _tokens(payload["messages"]) + (_tokens(rest) if rest else 0)
        if not marks and tools:
            uncached += _tokens(tools)
        out = {
            "input_tokens": uncached,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }
        if not marks:
            return out
        digest = hashlib.sha256(orjson.dumps([prefix, tools])).hexdigest()
        if digest in self._cached:
            out["cache_read_input_tokens"] = cached
        else:
            self._cached.add(digest)
            out["cache_creation_input_tokens"] = cached
        return out

    def _rate_limit(self, tokens: Mapping[str, int]) -> FakeResponse | None:
        if not self._buckets:
            return None
        now = time.monotonic()
        # Like the API: cache reads do not count against the input-tokens limit.
        counted = tokens["input_tokens"] + tokens["cache_creation_input_tokens"]
        needs = {"requests": 1.0, "input-tokens": float(counted), "output-tokens": 1.0}
        wait = 0.0
        for name, bucket in self._buckets.items():
            bucket.refill(now)
            wait = max(wait, bucket.wait_for(needs[name]))
        if wait > 0:
            self.counters.rate_limited += 1
            headers = self._limit_headers(now)
            headers["retry-after"] = str(max(1, math.ceil(wait)))
            return self._error(429, "rate_limit_error", "rate limit exceeded", headers)
        for name, bucket in self._buckets.items():
            if name != "output-tokens":
                bucket.level -= needs[name]
        return None

    def _limit_headers(self, now: float) -> dict[str, str]:
        wall = time.time()
        out: dict[str, str] = {}
        for name, bucket in self._buckets.items():
            out[f"anthropic-ratelimit-{name}-limit"] = str(int(bucket.capacity))
            out[f"anthropic-ratelimit-{name}-remaining"] = str(max(0, int(bucket.level)))
            reset = wall + (bucket.reset_at(now) - now)
            out[f"anthropic-ratelimit-{name}-reset"] = _http_date(reset)
        return out

    # -- the model -------------------------------------------------------------

    def _reply(
        self,
        payload: Mapping[str, Any],
        example: dict[str, Any] | None,
        tokens: dict[str, int],
        bad: str | None,
    ) -> FakeResponse:
        rid = self._request_id()
        message = self._message(payload, example, tokens, bad, rid)
        headers = {"content-type": "application/json", "request-id": rid}
        headers.update(self._limit_headers(time.monotonic()))
        return FakeResponse(200, headers, orjson.dumps(message))

    def _message(
        self,
        payload: Mapping[str, Any],
        example: dict[str, Any] | None,
        tokens: dict[str, int],
        bad: str | None,
        rid: str,
    ) -> dict[str, Any]:
        """The model's answer as a Messages API ``message`` object."""
        choice = payload.get("tool_choice")
        forced = choice.get("name") if isinstance(choice, dict) else None
        tool_names = [t.get("name") for t in payload.get("tools", []) if isinstance(t, dict)]
        judge = forced == JUDGE_TOOL or (forced is None and JUDGE_TOOL in tool_names)
        if example is None:
            result: dict[str, Any] = {"error": "no JSON object with 'conversations' found"}
        elif judge:
            result = self.model.judge(example)
        else:
            result = self.model.improve(example)
        if bad is not None:
            self.counters.bad_outputs[bad] += 1
        content, stop = self._content(result, forced, judge, bad)
        output_tokens = _tokens(content)
        if "output-tokens" in self._buckets:
            self._buckets["output-tokens"].level -= output_tokens
        self.counters.input_tokens += tokens["input_tokens"]
        self.counters.output_tokens += output_tokens
        return {
            "id": f"msg_fake{rid[8:]}",
            "type": "message",
            "role": "assistant",
            "model": payload["model"],
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {**tokens, "output_tokens": output_tokens},
        }

    def _content(
        self, result: dict[str, Any], forced: str | None, judge: bool, bad: str | None
    ) -> tuple[list[dict[str, Any]], str]:
        tool_id = f"toolu_fake{self._rng.getrandbits(48):012x}"
        if bad == "truncated_json":
            text = json.dumps(result)
            return [{"type": "text", "text": text[: max(1, len(text) // 2)]}], "max_tokens"
        if bad == "text_json":
            text = f"Here is the result:\n```json\n{json.dumps(result, indent=2)}\n```"
            return [{"type": "text", "text": text}], "end_turn"
        if bad == "wrong_tool":
            other = IMPROVE_TOOL if judge else JUDGE_TOOL
            scores = dict.fromkeys(DIMENSIONS, 3)
            wrong = {"notes": "", **scores} if other == JUDGE_TOOL else result
            return [{"type": "tool_use", "id": tool_id, "name": other, "input": wrong}], "tool_use"
        if bad == "broken_rules" and not judge:
            result = _break_rules(result)
        if forced is None:
            return [{"type": "text", "text": json.dumps(result)}], "end_turn"
        return [{"type": "tool_use", "id": tool_id, "name": forced, "input": result}], "tool_use"


def _break_rules(example: dict[str, Any]) -> dict[str, Any]:
    """Remove the ``context`` of the first tool call (fails C201), or, when there is no
    call to break, every assistant turn (fails S-rules)."""
    out: dict[str, Any] = copy.deepcopy(example)
    turns = [m for m in out.get("conversations", []) if isinstance(m, dict)]
    for msg in turns:
        if msg.get("role") != "assistant" or not isinstance(msg.get("content"), str):
            continue
        for call in parse_tool_calls(msg["content"]):
            if isinstance(call.arguments, dict) and call.arguments_span is not None:
                args = {k: v for k, v in call.arguments.items() if k != "context"}
                start, end = call.arguments_span
                text = msg["content"]
                msg["content"] = text[:start] + json.dumps(args) + text[end:]
                return out
    out["conversations"] = [m for m in turns if m.get("role") != "assistant"]
    return out


def _set_done(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
