"""The Anthropic backend in-process against the fake: requests, replies, errors."""

from __future__ import annotations

import json

import httpx2
import pytest

from syngen_improve.llm import AnthropicBackend, BackendError, Request
from syngen_improve.testing import FakeAnthropic, FakeAnthropicServer, FakeConfig
from tests.helpers import make_example

TOOL = {"name": "submit_improved_example", "input_schema": {"type": "object"}}


def improve_request(**kwargs: object) -> Request:
    ex = make_example()
    return Request(
        messages=[{"role": "user", "content": f"Improve:\n{json.dumps(ex)}"}],
        system=["Rubric text.", "Tool schemas."],
        tools=[TOOL],
        tool_choice="submit_improved_example",
        thinking={"type": "disabled"},  # Haiku 5.5 thinks by default; its tool is forced
        **kwargs,  # type: ignore[arg-type]
    )


def in_process(fake: FakeAnthropic, key: str = "sk-test") -> AnthropicBackend:
    client = httpx2.AsyncClient(transport=fake.transport())
    return AnthropicBackend(api_key=key, base_url="http://fake", http_client=client)


def test_request_body_marks_the_system_prompt_for_caching() -> None:
    body = improve_request().body("claude-haiku-5-5")
    assert body["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert "cache_control" not in body["system"][0]
    assert body["tool_choice"] == {"type": "tool", "name": "submit_improved_example"}
    assert not {"temperature", "top_p", "top_k"} & body.keys()
    assert "cache_control" not in improve_request(cache_system=False).body("m")["system"][-1]
    with pytest.raises(ValueError, match="not in 'tools'"):
        Request(messages=[], tool_choice="submit_scores")
    with pytest.raises(ValueError, match="'max_tokens' must be > 0"):
        Request(messages=[], max_tokens=0)


async def test_reply_carries_tool_input_usage_and_ids() -> None:
    fake = FakeAnthropic(FakeConfig(rpm=1000, cache_floor=1))  # a short prompt is cached
    backend = in_process(fake)
    reply = await backend.send(improve_request())
    await backend.aclose()
    block = reply.tool_use("submit_improved_example")
    assert block is not None
    assert block["input"]["label"] is True
    assert reply.tool_use("other") is None
    assert reply.usage.cache_creation > 0
    assert reply.request_id is not None
    assert reply.request_id.startswith("req_")
    assert reply.rate_limits["anthropic-ratelimit-requests-limit"] == "1000"
    assert reply.model == "claude-haiku-5-5"


async def test_text_reply_exposes_text() -> None:
    fake = FakeAnthropic(FakeConfig(first_bad_outputs=["text_json"]))
    backend = in_process(fake)
    reply = await backend.send(improve_request())
    await backend.aclose()
    assert reply.tool_use() is None
    assert "```json" in reply.text


async def test_errors_become_backend_errors_with_retry_after() -> None:
    backend = in_process(FakeAnthropic(FakeConfig(first_faults=["429", "drop"], retry_after=7)))
    with pytest.raises(BackendError) as info:
        await backend.send(improve_request())
    assert info.value.status == 429
    assert info.value.error_type == "rate_limit_error"
    assert info.value.retry_after == 7
    assert info.value.request_id is not None
    with pytest.raises(BackendError) as dropped:
        await backend.send(improve_request())
    assert dropped.value.status is None
    assert dropped.value.error_type == "connection"
    await backend.aclose()


async def test_key_and_base_url_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with FakeAnthropicServer(config=FakeConfig(api_key="sk-env")) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-env")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        backend = AnthropicBackend()
        assert backend.base_url == server.url
        reply = await backend.send(improve_request())
        await backend.aclose()
    assert reply.stop_reason == "tool_use"
    assert "sk-env" not in repr(backend)


def test_missing_key_and_bad_options_are_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(ValueError, match="ANTHROPIC_API_KEY"):
        AnthropicBackend()
    with pytest.raises(ValueError, match="'model'"):
        AnthropicBackend(api_key="k", model="")


async def test_400_is_not_retryable_and_names_the_parameter() -> None:
    backend = in_process(FakeAnthropic())
    req = Request(messages=[{"role": "system", "content": "x"}])
    with pytest.raises(BackendError) as info:
        await backend.send(req)
    await backend.aclose()
    assert info.value.status == 400
    assert "messages.0.role" in str(info.value)


async def test_a_reply_that_is_not_json_is_a_retryable_backend_error() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=b"<html>proxy error</html>")

    client = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    backend = AnthropicBackend(api_key="k", base_url="http://x", http_client=client)
    with pytest.raises(BackendError) as info:
        await backend.send(improve_request())
    await backend.aclose()
    assert info.value.status is None  # no usable response: retried like a connection error
    assert info.value.error_type == "bad_response"
