"""The fake's OpenAI-compatible ``POST /v1/chat/completions`` (vLLM, Ollama, LM Studio).

The request is read as the Messages API request it stands for, answered by the same
model, faults and bad outputs, and written back in the chat-completions shape.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson

from ._answers import Answers, check_payload
from ._wire import DropConnection, FakeResponse

__all__ = ["handle_chat"]

_STATUS_TYPES = {429: "rate_limit_exceeded", 500: "server_error", 529: "server_overloaded"}


def _error(status: int, message: str) -> FakeResponse:
    kind = _STATUS_TYPES.get(status, "invalid_request_error")
    body = {"error": {"message": message, "type": kind, "code": None}}
    return FakeResponse(status, {"content-type": "application/json"}, orjson.dumps(body))


def _as_messages_api(payload: dict[str, Any]) -> dict[str, Any]:
    """The Messages API payload an OpenAI chat request stands for."""
    system = [
        m.get("content", "") for m in payload.get("messages", []) if m.get("role") == "system"
    ]
    messages = []
    for m in payload.get("messages", []):
        role = m.get("role")
        if role == "system":
            continue
        if role == "tool":
            messages.append({"role": "user", "content": str(m.get("content", ""))})
        else:
            messages.append(
                {
                    "role": "assistant" if role == "assistant" else "user",
                    "content": m.get("content") or "",
                }
            )
    out: dict[str, Any] = {
        "model": payload.get("model"),
        "max_tokens": payload.get("max_tokens") or payload.get("max_completion_tokens") or 4096,
        "messages": messages,
    }
    if system:
        out["system"] = [{"type": "text", "text": "\n\n".join(map(str, system))}]
    tools = [t.get("function", {}) for t in payload.get("tools", []) if isinstance(t, dict)]
    if tools:
        out["tools"] = [
            {"name": t.get("name"), "input_schema": t.get("parameters", {})} for t in tools
        ]
    choice = payload.get("tool_choice")
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        out["tool_choice"] = {"type": "tool", "name": choice["function"].get("name")}
    return out


async def handle_chat(answers: Answers, method: str, body: bytes) -> FakeResponse:
    """Answer one chat-completions request."""
    if method != "POST":
        return _error(405, f"{method} is not allowed here")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return _error(400, f"body is not JSON: {exc}")
    if not isinstance(payload, dict) or not isinstance(payload.get("messages"), list):
        return _error(400, "messages: a list is required")
    params = _as_messages_api(payload)
    problem = check_payload(params)
    if problem:
        return _error(400, problem)
    attempt = answers.attempt(params)
    fault = attempt.fault
    if fault is not None:
        if fault == "drop":
            raise DropConnection
        if fault == "hang":
            await answers.hang()
        status = {"429": 429, "529": 529}.get(fault, 500)
        response = _error(status, f"fault injected: {fault}")
        if status == 429:
            response.headers["retry-after"] = str(int(answers.config.retry_after) or 1)
        return response
    delay = answers.delay(attempt)
    if delay:
        await asyncio.sleep(delay)
    usage = answers.usage(params)
    message = answers.message(params, attempt, usage, answers.request_id())
    text = "".join(b.get("text", "") for b in message["content"] if b.get("type") == "text")
    calls = [
        {
            "id": b["id"].replace("toolu_", "call_"),
            "type": "function",
            "function": {"name": b["name"], "arguments": orjson.dumps(b["input"]).decode()},
        }
        for b in message["content"]
        if b.get("type") == "tool_use"
    ]
    finish = {"tool_use": "tool_calls", "max_tokens": "length"}.get(message["stop_reason"], "stop")
    usage = message["usage"]
    prompt = (
        usage["input_tokens"]
        + usage["cache_read_input_tokens"]
        + usage["cache_creation_input_tokens"]
    )
    answer = {
        "id": f"chatcmpl-{message['id'][8:]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": params["model"],
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": text or None,
                    **({"tool_calls": calls} if calls else {}),
                },
                "finish_reason": finish,
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": usage["output_tokens"],
            "total_tokens": prompt + usage["output_tokens"],
        },
    }
    return FakeResponse(200, {"content-type": "application/json"}, orjson.dumps(answer))
