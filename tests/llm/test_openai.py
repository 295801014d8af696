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
    body = _payload(req, "m", json_mode=False)
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["system", "user", "assistant", "tool"]
    assert body["messages"][2]["tool_calls"][0]["function"]["name"] == IMPROVE_TOOL
    assert body["messages"][3]["tool_call_id"] == "call_1"
    assert body["tool_choice"] == {"type": "function", "function": {"name": IMPROVE_TOOL}}
    assert "response_format" not in body
