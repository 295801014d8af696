"""The OpenAI-compatible backend against the fake's /v1/chat/completions."""

from __future__ import annotations

from pathlib import Path

import pytest

from syngen_improve import improve_dataset, sample_path
from syngen_improve.errors import ModelWarning
from syngen_improve.llm import BackendError, OpenAIBackend, Reply, Request, RetryPolicy, Usage
from syngen_improve.llm._openai import _payload
from syngen_improve.prompts import IMPROVE_TOOL, Templates, first_message, reask_messages
from syngen_improve.testing import FakeAnthropicServer, FakeConfig
from syngen_improve.validate import validate_file
from tests.helpers import make_example

# Local models have no price: every run here says so (asserted once, below).
pytestmark = pytest.mark.filterwarnings("ignore::syngen_improve.errors.ModelWarning")


async def test_improve_end_to_end_over_chat_completions(tmp_path: Path) -> None:
    config = FakeConfig(bad_output_rates={"broken_rules": 0.1}, fault_rates={"529": 0.05}, seed=5)
    async with FakeAnthropicServer(config=config) as server:
        b = OpenAIBackend(model="qwen2.5-7b-instruct", api_key="k", base_url=server.url + "/v1")
        with pytest.warns(ModelWarning, match="no known price: the cost is reported as unknown"):
            result = await improve_dataset(sample_path(), tmp_path, backend=b, progress=False,
                                           retry=RetryPolicy(base_delay=0.01))  # fmt: skip
        await b.aclose()
    assert result.counts.improved + result.counts.failed == 120
    assert result.counts.improved >= 118
    assert validate_file(tmp_path / "improved_examples.jsonl", profile="strict").ok
    rejections = result.report.rejections
    assert rejections.get("invalid", 0) > 0  # re-asks went through tool messages
    assert result.report.cost_usd is None  # a local model has no known price: unknown, not $0


async def test_json_mode_for_servers_without_function_calling(tmp_path: Path) -> None:
    async with FakeAnthropicServer() as server:
        b = OpenAIBackend(model="m", base_url=server.url + "/v1", json_mode=True, api_key="k")
        result = await improve_dataset(sample_path(), tmp_path, backend=b, progress=False,
                                       limit=20)  # fmt: skip
        await b.aclose()
    assert result.ok


async def test_errors_carry_status_and_retry_after_without_the_key() -> None:
    secret = "sk-openai-secret-123456789"
    async with FakeAnthropicServer(config=FakeConfig(first_faults=["429"], retry_after=3,
                                                     api_key="other")) as server:  # fmt: skip
        b = OpenAIBackend(model="m", base_url=server.url + "/v1", api_key=secret)
        req = Request(messages=[first_message(make_example(), frozenset(), Templates.default())])
        with pytest.raises(BackendError) as denied:
            await b.send(req)
        await b.aclose()
    assert denied.value.status == 401
    assert secret not in str(denied.value)
    async with FakeAnthropicServer(config=FakeConfig(first_faults=["429"], retry_after=3)) as s2:
        b = OpenAIBackend(model="m", base_url=s2.url + "/v1", api_key="k")
        with pytest.raises(BackendError) as limited:
            await b.send(req)
        await b.aclose()
    assert (limited.value.status, limited.value.retry_after) == (429, 3.0)


def test_reasks_become_tool_messages() -> None:
    first = first_message(make_example(), frozenset(), Templates.default())
    reply = Reply(content=[{"type": "tool_use", "id": "call_1", "name": IMPROVE_TOOL,
                            "input": {"conversations": []}}], usage=Usage())  # fmt: skip
    messages = reask_messages([first], reply, ["C201: no context"], Templates.default())
    req = Request(messages=messages, system="S", tools=[{"name": IMPROVE_TOOL,
                  "input_schema": {"type": "object"}}], tool_choice=IMPROVE_TOOL)  # fmt: skip
    body = _payload(req, "m", json_mode=False, marks=False)
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["system", "user", "assistant", "tool"]
    assert body["messages"][2]["tool_calls"][0]["function"]["name"] == IMPROVE_TOOL
    assert body["messages"][3]["tool_call_id"] == "call_1"
    assert body["tool_choice"] == {"type": "function", "function": {"name": IMPROVE_TOOL}}
    assert "response_format" not in body


def test_a_claude_model_gets_its_system_prompt_cache_marked() -> None:
    """Through a gateway to Claude: the system message as text blocks with the mark where
    the Messages API puts it; any other model (or 'off'): one string."""
    req = Request(
        messages=[{"role": "user", "content": "hi"}],
        system=["S" * 50],
        system_extra="per request",
        tools=[{"name": IMPROVE_TOOL, "input_schema": {"type": "object"}}],
        tool_choice=IMPROVE_TOOL,
        force_tool=False,
    )
    assert OpenAIBackend(model="anthropic/claude-haiku-5-5", base_url="http://x/v1").marks_cache
    assert not OpenAIBackend(model="qwen3", base_url="http://x/v1").marks_cache
    off = OpenAIBackend(model="claude-haiku-5-5", base_url="http://x/v1", cache_control="off")
    assert not off.marks_cache
    system = _payload(req, "m", json_mode=False, marks=True)["messages"][0]["content"]
    assert system[0] == {"type": "text", "text": "S" * 50, "cache_control": {"type": "ephemeral"}}
    assert all("cache_control" not in b for b in system[1:])
    plain = _payload(req, "m", json_mode=False, marks=False)
    assert isinstance(plain["messages"][0]["content"], str)
    assert plain["tool_choice"] == "auto"  # the tool not forced: chat completions' 'auto'


def test_usage_as_litellm_reports_it_becomes_the_messages_apis() -> None:
    from syngen_improve.llm._openai import _usage

    litellm = {
        "prompt_tokens": 2006,  # every input token, cache reads and writes included
        "completion_tokens": 300,
        "prompt_tokens_details": {"cached_tokens": 1920},
        "cache_creation_input_tokens": 50,
    }
    assert _usage(litellm) == Usage(input=36, output=300, cache_read=1920, cache_creation=50)
    assert _usage({"prompt_tokens": 10, "completion_tokens": 2}) == Usage(input=10, output=2)
    with pytest.raises(ValueError, match="cached_tokens"):
        _usage({"prompt_tokens": 1, "prompt_tokens_details": {"cached_tokens": -1}})


def test_openai_rate_limit_headers_are_learned_as_request_limits() -> None:
    from datetime import UTC, datetime

    from syngen_improve.llm._openai import _rate_limits

    got = _rate_limits(
        {
            "x-ratelimit-limit-requests": "600",
            "x-ratelimit-remaining-requests": "598",
            "x-ratelimit-reset-requests": "6m0.5s",
            "x-ratelimit-limit-tokens": "90000",
            "retry-after": "2",
        }
    )
    assert got["anthropic-ratelimit-requests-limit"] == "600"
    assert got["anthropic-ratelimit-requests-remaining"] == "598"
    assert got["retry-after"] == "2"
    assert not any("tokens" in k for k in got)
    reset = datetime.fromisoformat(got["anthropic-ratelimit-requests-reset"])
    assert 355 < (reset - datetime.now(UTC)).total_seconds() <= 360.5


def test_a_gateways_error_body_is_read_whatever_its_shape() -> None:
    from syngen_improve.llm._said import error_text

    assert error_text({"detail": "No credential"}, b"") == ("No credential", None)
    assert error_text({"detail": {"error": "Invalid model name"}}, b"") == (
        "Invalid model name",
        None,
    )
    assert error_text({"detail": [{"msg": "field required"}, {"msg": "bad"}]}, b"") == (
        "field required; bad",
        None,
    )
    assert error_text({"error": {"type": "x", "message": "m"}}, b"") == ("m", "x")
    assert error_text({"error": "plain"}, b"") == ("plain", None)
    assert error_text(None, b"Internal Server Error") == ("Internal Server Error", None)
    long = error_text(None, b"x" * 1000)[0]
    assert long is not None
    assert len(long) == 203
    assert error_text(None, b"") == (None, None)
