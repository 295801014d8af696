"""The fake Anthropic Messages API: routes, authentication, rate limits.

:class:`FakeAnthropic` answers one HTTP request at a time through :meth:`handle`;
the real HTTP server (``_server.py``) and the in-process transport only adapt it, so
both behave identically. What the model answers, and the faults drawn for each
request, live in ``_answers.py``, shared with the batch and chat-completions routes.
"""

from __future__ import annotations

import asyncio
import functools
import math
import time
import zlib
from collections.abc import Mapping
from typing import Any

import orjson

from ._answers import Answers, check_payload
from ._batches import BatchRoute
from ._config import Counters, FakeConfig
from ._model import FakeModel
from ._openai import handle_chat
from ._strict import strict_problem
from ._transport import in_process_transport
from ._wire import DropConnection, FakeResponse, http_date, tokens

__all__ = ["FakeAnthropic"]


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


class FakeAnthropic:
    """An Anthropic-compatible Messages API with knobs (see :class:`FakeConfig`).

    Serve it over real HTTP with :class:`~syngen_improve.testing.FakeAnthropicServer`
    or in-process with :meth:`transport`. ``counters`` records what it saw.
    """

    def __init__(self, config: FakeConfig | None = None, *, model: FakeModel | None = None) -> None:
        self.config = config or FakeConfig()
        self.model = model or FakeModel()
        self.counters = Counters()
        self.answers = Answers(self.config, self.model, self.counters)
        self._batches = BatchRoute(self.answers)
        self._started: float | None = None  # the first message request (for ``outage``)
        self._window: tuple[float, int] | None = None  # rpm_window: (start, requests)
        self._buckets = {
            name: _Bucket(limit)
            for name, limit in (
                ("requests", self.config.rpm),
                ("input-tokens", self.config.input_tpm),
                ("output-tokens", self.config.output_tpm),
            )
            if limit is not None
        }

    @property
    def batches(self) -> dict[str, Any]:
        """The Message Batches created so far, by id."""
        return dict(self._batches.batches)

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
        return in_process_transport(self)

    def close(self) -> None:
        """Release hung requests (the server calls this when it stops)."""
        self.answers.close()

    async def _handle(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> FakeResponse:
        error = self.answers.error
        lowered = {k.lower(): v for k, v in headers.items()}
        route = path.split("?", 1)[0].rstrip("/")
        batches = route.startswith("/v1/messages/batches")
        openai = route == "/v1/chat/completions"
        counting = route == "/v1/messages/count_tokens"
        if route != "/v1/messages" and not batches and not openai and not counting:
            return error(404, "not_found_error", f"no route {method} {path}")
        key = lowered.get("x-api-key")
        auth = lowered.get("authorization", "")
        if auth.lower().startswith("bearer ") and self.config.auth == "any":
            key = key or auth[7:].strip()
        if not key or (self.config.api_key is not None and key != self.config.api_key):
            return error(401, "authentication_error", "invalid x-api-key")
        if openai:
            return await handle_chat(self.answers, method, body)
        if "anthropic-version" not in lowered:
            return error(400, "invalid_request_error", "anthropic-version header is required")
        if batches:
            return self._batches.handle(method, route, lowered.get("host", "127.0.0.1"), body)
        if counting:
            return self._count_tokens(body)
        if method != "POST":
            return error(405, "invalid_request_error", f"{method} is not allowed here")
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return error(400, "invalid_request_error", f"body is not JSON: {exc}")
        problem = check_payload(payload)
        if problem:
            return error(400, "invalid_request_error", problem)
        problem = strict_problem(payload, self.config.strict_grammar_limit)
        if problem:
            self.counters.strict_refused += 1
            return error(400, "invalid_request_error", problem)
        problem = self.answers.thinking_problem(payload)
        if problem:
            self.counters.thinking_refused += 1
            return error(400, "invalid_request_error", problem)
        return await self._message(payload, key)

    def _count_tokens(self, body: bytes) -> FakeResponse:
        """``POST /v1/messages/count_tokens``: the prompt's input tokens as this fake counts
        them for a message (system, tools, messages; cached or not), no answer."""
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return self.answers.error(400, "invalid_request_error", f"body is not JSON: {exc}")
        if not isinstance(payload, dict) or not isinstance(payload.get("messages"), list):
            return self.answers.error(400, "invalid_request_error", "messages: required")
        self.counters.count_tokens += 1
        factor = self.answers.factor(str(payload.get("model", "")))
        total = sum(
            tokens(payload[k], factor) for k in ("system", "tools", "messages") if payload.get(k)
        )
        return FakeResponse(
            200, {"content-type": "application/json"}, orjson.dumps({"input_tokens": total})
        )

    async def _message(self, payload: dict[str, Any], key: str) -> FakeResponse:
        """``POST /v1/messages`` with a valid body: a fault, a 429, a hostile reply, or the
        model's answer."""
        answers = self.answers
        now = time.monotonic()
        self._started = now if self._started is None else self._started
        if now - self._started < self.config.outage:
            self.counters.faults["outage"] += 1
            return await self._fault(self.config.outage_fault)
        attempt = answers.attempt(payload)
        if attempt.fault is not None:
            return await self._fault(attempt.fault)
        hostile = answers.hostile(attempt)
        if hostile in ("retry_after_day", "retry_after_inf", "key_echo", "redirect"):
            return _hostile_error(answers, hostile, key)
        usage = answers.usage(payload)
        limited = self._rate_limit(usage)
        if limited is not None:
            return limited
        delay = answers.delay(attempt)
        if delay:
            await asyncio.sleep(delay)
        rid = answers.request_id()
        message = answers.message(payload, attempt, usage, rid)
        if "output-tokens" in self._buckets:
            self._buckets["output-tokens"].level -= message["usage"]["output_tokens"]
        headers = {"content-type": "application/json", "request-id": rid}
        headers.update(self._limit_headers(time.monotonic()))
        if hostile is not None:
            return _hostile_reply(hostile, message, headers, key)
        return FakeResponse(200, headers, orjson.dumps(message))

    async def _fault(self, fault: str) -> FakeResponse:
        error = self.answers.error
        if fault == "429":
            after = self.config.retry_after
            return error(
                429,
                "rate_limit_error",
                "fault injected: rate limited",
                {"retry-after": _seconds(after)},
            )
        if fault == "529":
            return error(529, "overloaded_error", "fault injected: overloaded")
        if fault == "500":
            return error(500, "api_error", "fault injected: internal error")
        if fault == "400":
            return error(400, "invalid_request_error", "fault injected: refused as invalid")
        if fault == "drop":
            raise DropConnection
        await self.answers.hang()
        return error(500, "api_error", "hang ended")

    # -- limits ----------------------------------------------------------------

    def _rate_limit(self, tokens: Mapping[str, int]) -> FakeResponse | None:
        if not self._buckets:
            return None
        now = time.monotonic()
        if self.config.rpm_window is not None and self.config.rpm is not None:
            return self._window_limit(now, self.config.rpm_window)
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
            return self.answers.error(429, "rate_limit_error", "rate limit exceeded", headers)
        for name, bucket in self._buckets.items():
            if name != "output-tokens":
                bucket.level -= needs[name]
        return None

    def _window_limit(self, now: float, length: float) -> FakeResponse | None:
        """``rpm`` per fixed window of ``length`` seconds (a low tier counting per minute):
        counted from the window's first request; over them, a 429 until the window ends
        (``retry-after`` up to ``length`` + 1 s)."""
        assert self.config.rpm is not None
        if self._window is None or now >= self._window[0] + length:
            self._window = (now, 0)
        start, used = self._window
        if used >= self.config.rpm:
            self.counters.rate_limited += 1
            headers = self._window_headers(now, length)
            headers["retry-after"] = str(math.ceil(start + length - now) + 1)
            return self.answers.error(429, "rate_limit_error", "rate limit exceeded", headers)
        self._window = (start, used + 1)
        return None

    def _window_headers(self, now: float, length: float) -> dict[str, str]:
        """The window's state as the API's headers say a limit: per minute, what remains,
        when it resets."""
        assert self.config.rpm is not None
        assert self._window is not None
        start, used = self._window
        return {
            "anthropic-ratelimit-requests-limit": str(round(self.config.rpm * 60 / length)),
            "anthropic-ratelimit-requests-remaining": str(max(0, self.config.rpm - used)),
            "anthropic-ratelimit-requests-reset": http_date(time.time() + start + length - now),
        }

    def _limit_headers(self, now: float) -> dict[str, str]:
        length = self.config.rpm_window
        if length is not None and self._window is not None and self.config.rpm is not None:
            return self._window_headers(now, length)
        wall = time.time()
        out: dict[str, str] = {}
        for name, bucket in self._buckets.items():
            out[f"anthropic-ratelimit-{name}-limit"] = str(int(bucket.capacity))
            out[f"anthropic-ratelimit-{name}-remaining"] = str(max(0, int(bucket.level)))
            reset = wall + (bucket.reset_at(now) - now)
            out[f"anthropic-ratelimit-{name}-reset"] = http_date(reset)
        return out


def _hostile_error(answers: Answers, kind: str, key: str) -> FakeResponse:
    if kind == "redirect":  # moved elsewhere: a client that follows it sends a GET there
        return FakeResponse(
            301,
            {"location": "/moved/v1/messages", "content-type": "text/plain"},
            b"Moved Permanently",
        )
    if kind == "key_echo":
        return answers.error(500, "api_error", f"upstream rejected credentials {key[:-3]}")
    after = "86400" if kind == "retry_after_day" else "inf"
    return answers.error(429, "rate_limit_error", "slow down", {"retry-after": after})


def _hostile_reply(
    kind: str, message: dict[str, Any], headers: dict[str, str], key: str
) -> FakeResponse:
    """A 200 that breaks the wire format, or whose headers lie."""
    body: Any = message
    if kind == "content_string":
        body = {**message, "content": "the answer, as a plain string"}
    elif kind == "block_not_object":
        body = {**message, "content": ["not a block", *message["content"]]}
    elif kind == "body_array":
        body = [message]
    elif kind == "usage_string":
        body = {**message, "usage": {**message["usage"], "input_tokens": "lots"}}
    elif kind == "usage_negative":
        body = {**message, "usage": {**message["usage"], "output_tokens": -1_000_000}}
    elif kind == "remaining_negative":
        headers = {
            **headers,
            "anthropic-ratelimit-requests-limit": "4000",
            "anthropic-ratelimit-requests-remaining": "-5",
        }
    elif kind == "key_in_request_id":
        headers = {**headers, "request-id": key}
    elif kind == "usage_huge":
        body = {
            **message,
            "usage": {**message["usage"], "input_tokens": 10**15, "output_tokens": 10**15},
        }
    elif kind == "tiny_limits":
        tomorrow = http_date(time.time() + 86_400)
        for name in ("requests", "input-tokens", "output-tokens"):
            headers = {
                **headers,
                f"anthropic-ratelimit-{name}-limit": "1",
                f"anthropic-ratelimit-{name}-remaining": "0",
                f"anthropic-ratelimit-{name}-reset": tomorrow,
            }
    elif kind == "gzip_bomb":
        return FakeResponse(200, {**headers, "content-encoding": "gzip"}, _bomb())
    return FakeResponse(200, headers, orjson.dumps(body))


@functools.cache
def _bomb(size: int = 300 * 2**20) -> bytes:
    """Gzip of ``size`` zero bytes (about a thousandth of it), made without holding them."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(2**20)
    out = [packer.compress(block) for _ in range(size // len(block))]
    return b"".join([*out, packer.flush()])


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
