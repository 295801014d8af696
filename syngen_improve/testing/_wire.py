"""The fake's HTTP vocabulary: one answer, a dropped connection, error bodies, token counts.

Every route module builds on this one, and on nothing else of the fake's, so the
routes and the server that dispatches to them form no import cycle.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

__all__ = ["DropConnection", "FakeResponse", "draw", "error_response", "http_date", "tokens"]


class DropConnection(Exception):
    """Raised by a route to close the connection without a reply."""


@dataclass(frozen=True, slots=True)
class FakeResponse:
    """One HTTP answer."""

    status: int
    headers: dict[str, str]
    body: bytes


def error_response(
    status: int, kind: str, message: str, request_id: str, headers: dict[str, str] | None = None
) -> FakeResponse:
    """An Anthropic error body (``type``, ``error``, ``request_id``) with its headers."""
    body = {"type": "error", "error": {"type": kind, "message": message}, "request_id": request_id}
    out = {"content-type": "application/json", "request-id": request_id, **(headers or {})}
    return FakeResponse(status, out, orjson.dumps(body))


def tokens(data: Any, factor: float = 1.0) -> int:
    """A rough token count: a quarter of the UTF-8 bytes of the JSON text (Haiku 4.5's
    tokenizer, roughly), times a model's tokenizer ``factor``."""
    raw = data.encode() if isinstance(data, str) else orjson.dumps(data)
    return max(1, math.ceil(len(raw) * factor / 4))


def draw(seed: int, *parts: object) -> float:
    """A number in [0, 1) fixed by ``seed`` and ``parts`` (what is drawn for, the
    example, the attempt): the same request gets the same draw whenever it arrives,
    so a run's faults do not depend on concurrency or scheduling."""
    text = "\x00".join(map(str, (seed, *parts))).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big") / 2**64


def http_date(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
