"""The fake Anthropic API: wire format, knobs and counters (in-process and over HTTP)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.request
from typing import Any

import httpx2
import orjson
import pytest

from syngen_improve._model import DIMENSIONS
from syngen_improve.testing import (
    BAD_OUTPUTS,
    FakeAnthropic,
    FakeAnthropicServer,
    FakeConfig,
    find_example,
)
from tests.helpers import make_example

HEADERS = {"authorization": "Bearer sk-test", "anthropic-version": "2026-10-21"}
IMPROVE = {"name": "submit_improved_example", "input_schema": {"type": "object"}}
JUDGE = {"name": "submit_scores", "input_schema": {"type": "object"}}


def body(example: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    ex = example or make_example()
    out: dict[str, Any] = {
        "model": "claude-haiku-5-5",
        "max_tokens": 2048,
        "system": [{"type": "text", "text": "rubric", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": f"Improve this:\n{json.dumps(ex)}"}],
        "tools": [IMPROVE],
        "tool_choice": {"type": "tool", "name": "submit_improved_example"},
        # Haiku 5.5 thinks by default, and a forced tool with thinking on is refused.
        "thinking": {"type": "disabled"},
    }
    out.update(extra)
    return out


async def post(
    fake: FakeAnthropic, payload: Any, headers: dict[str, str] | None = None
) -> httpx2.Response:
    async with httpx2.AsyncClient(transport=fake.transport(), base_url="http://fake") as client:
        raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
        return await client.post("/v1/messages", content=raw, headers=headers or HEADERS)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_find_example_takes_the_last_object_with_conversations() -> None:
    first, second = make_example(user="first"), make_example(user="second")
    text = f'See {{"a": 1}} and {json.dumps(first)} then {{ bad json and {json.dumps(second)}.'
    assert find_example(text) == second
    assert find_example("no json here {") is None


def test_improve_request_returns_forced_tool_with_usage_and_headers() -> None:
    fake = FakeAnthropic(FakeConfig(rpm=100, cache_floor=1))  # this short prompt is cached
    resp = run(post(fake, body()))
    assert resp.status_code == 200
    assert resp.headers["request-id"].startswith("req_")
    assert resp.headers["anthropic-ratelimit-requests-limit"] == "100"
    assert resp.headers["anthropic-ratelimit-requests-remaining"] == "99"
    data = resp.json()
    assert data["type"] == "message"
    assert data["stop_reason"] == "tool_use"
    (block,) = data["content"]
    assert block["type"] == "tool_use"
    assert block["name"] == "submit_improved_example"
    assert block["input"]["label"] is True
    assert "Result:" in block["input"]["conversations"][1]["content"]
    assert data["usage"]["cache_creation_input_tokens"] > 0
    again = run(post(fake, body())).json()["usage"]
    assert again["cache_read_input_tokens"] == data["usage"]["cache_creation_input_tokens"]
    assert again["cache_creation_input_tokens"] == 0


def test_judge_request_returns_scores() -> None:
    fake = FakeAnthropic()
    payload = body(tools=[JUDGE], tool_choice={"type": "tool", "name": "submit_scores"})
    poor = make_example(sessionMemory="", user="Result: {}")
    scores = run(
        post(fake, payload | {"messages": [{"role": "user", "content": json.dumps(poor)}]})
    )
    inp = scores.json()["content"][0]["input"]
    assert inp["sessionMemory_quality"] == 1
    assert inp["prompt_naturalness"] == 2
    assert inp["overall_quality"] == round(sum(inp[d] for d in DIMENSIONS) / 5, 1)


@pytest.mark.parametrize(
    ("headers", "status", "kind"),
    [
        ({"anthropic-version": "2026-10-21"}, 401, "authentication_error"),
        ({"x-api-key": "wrong", "anthropic-version": "2026-10-21"}, 401, "authentication_error"),
        ({"x-api-key": "sk-test"}, 400, "invalid_request_error"),
    ],
)
def test_auth_and_version_errors_use_the_error_body(
    headers: dict[str, str], status: int, kind: str
) -> None:
    fake = FakeAnthropic(FakeConfig(api_key="sk-test"))
    resp = run(post(fake, body(), headers))
    assert resp.status_code == status
    data = resp.json()
    assert data["type"] == "error"
    assert data["error"]["type"] == kind
    assert data["request_id"] == resp.headers["request-id"]


def test_x_api_key_is_accepted_too() -> None:
    fake = FakeAnthropic(FakeConfig(api_key="sk-test"))
    resp = run(post(fake, body(), {"x-api-key": "sk-test", "anthropic-version": "2026-10-21"}))
    assert resp.status_code == 200


@pytest.mark.parametrize("param", ["temperature", "top_p", "top_k"])
def test_sampling_parameters_are_rejected(param: str) -> None:
    resp = run(post(FakeAnthropic(), body(**{param: 0.5})))
    assert resp.status_code == 400
    assert param in resp.json()["error"]["message"]


def test_bad_bodies_are_400() -> None:
    fake = FakeAnthropic()
    assert run(post(fake, b"{not json")).status_code == 400
    assert run(post(fake, body(max_tokens=0))).status_code == 400
    assert run(post(fake, body(tool_choice={"type": "tool", "name": "nope"}))).status_code == 400


@pytest.mark.parametrize(("fault", "status"), [("429", 429), ("529", 529), ("500", 500)])
def test_first_faults_then_success_per_example(fault: str, status: int) -> None:
    fake = FakeAnthropic(FakeConfig(first_faults=[fault, fault], retry_after=2))
    statuses = [run(post(fake, body())).status_code for _ in range(3)]
    assert statuses == [status, status, 200]
    other = make_example(user="A different request about the archive folder")
    assert run(post(fake, body(other))).status_code == status  # counted per example
    assert fake.counters.per_example.most_common(1)[0][1] == 3
    if fault == "429":
        fresh = FakeAnthropic(FakeConfig(first_faults=["429"]))
        assert run(post(fresh, body())).headers["retry-after"] == "1"


def test_drop_raises_a_connection_error_in_process() -> None:
    fake = FakeAnthropic(FakeConfig(first_faults=["drop"]))
    with pytest.raises(httpx2.RemoteProtocolError):
        run(post(fake, body()))
    assert fake.counters.faults["drop"] == 1


def test_hang_waits_for_hang_seconds() -> None:
    fake = FakeAnthropic(FakeConfig(first_faults=["hang"], hang_seconds=0.01))
    assert run(post(fake, body())).status_code == 500


def test_rate_limit_answers_429_with_retry_after() -> None:
    fake = FakeAnthropic(FakeConfig(rpm=2))

    async def three() -> list[httpx2.Response]:
        return [await post(fake, body()) for _ in range(3)]

    responses = run(three())
    assert [r.status_code for r in responses] == [200, 200, 429]
    limited = responses[2]
    assert limited.json()["error"]["type"] == "rate_limit_error"
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["anthropic-ratelimit-requests-remaining"] == "0"
    assert fake.counters.rate_limited == 1


@pytest.mark.parametrize("kind", BAD_OUTPUTS)
def test_bad_outputs(kind: str) -> None:
    fake = FakeAnthropic(FakeConfig(first_bad_outputs=[kind]))
    data = run(post(fake, body())).json()
    if kind == "refusal":  # the safety classifiers: no answer at all
        assert (data["stop_reason"], data["content"]) == ("refusal", [])
        assert fake.counters.refusals == 1
        return
    block = data["content"][0]
    if kind == "truncated_tool":  # a tool input cut short: it parses, but is not whole
        assert data["stop_reason"] == "max_tokens"
        assert data["usage"]["output_tokens"] == 2048  # all of max_tokens
        assert len(block["input"]["conversations"]) < len(make_example()["conversations"])
        return
    if kind == "truncated_json":
        assert data["stop_reason"] == "max_tokens"
        with pytest.raises(json.JSONDecodeError):
            json.loads(block["text"])
    elif kind == "text_json":
        assert find_example(block["text"]) is not None
    elif kind == "wrong_tool":
        assert block["name"] == "submit_scores"
    elif kind == "unchanged":
        assert block["input"]["conversations"] == make_example()["conversations"]
    elif kind == "extra_turn":
        turns = block["input"]["conversations"]
        assert len(turns) == len(make_example()["conversations"]) + 1
        assert turns[-1]["role"] == "user"
    elif kind == "request_rewritten":
        first = block["input"]["conversations"][0]
        assert first["content"] != make_example()["conversations"][0]["content"]
    elif kind == "schema_slip":  # slips are made in structured answers (tests/testing/test_strict)
        assert "tool_call:" in block["input"]["conversations"][1]["content"]
        assert fake.counters.bad_outputs == {}
    else:
        args = block["input"]["conversations"][1]["content"]
        assert '"context"' not in args
    good = run(post(fake, body())).json()["content"][0]
    assert good["name"] == "submit_improved_example"


def test_config_is_validated() -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        FakeConfig(first_faults=["teapot"])
    with pytest.raises(ValueError, match="sum to at most 1"):
        FakeConfig(fault_rates={"429": 0.7, "500": 0.7})
    with pytest.raises(ValueError, match="'rpm' must be > 0"):
        FakeConfig(rpm=0)


def test_real_http_server_threaded_with_counters_endpoint() -> None:
    with FakeAnthropicServer(config=FakeConfig(latency=0.001)) as server:
        assert server.url.startswith("http://127.0.0.1:")
        req = urllib.request.Request(
            server.url + "/v1/messages", data=orjson.dumps(body()), headers=HEADERS
        )
        with urllib.request.urlopen(req) as resp:
            assert json.loads(resp.read())["stop_reason"] == "tool_use"
        with urllib.request.urlopen(server.url + "/_fake/counters") as resp:
            counters = json.loads(resp.read())
    assert counters["requests"] == 1
    assert counters["by_status"] == {"200": 1}


async def test_real_http_server_on_the_running_loop() -> None:
    async with FakeAnthropicServer() as server, httpx2.AsyncClient(base_url=server.url) as client:
        resp = await client.post("/v1/messages", json=body(), headers=HEADERS)
    assert resp.status_code == 200
    assert server.counters.max_in_flight == 1
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url


def test_fixture_points_the_environment_at_the_server(
    fake_anthropic_server: FakeAnthropicServer,
) -> None:
    import os

    assert os.environ["ANTHROPIC_BASE_URL"] == fake_anthropic_server.url


@pytest.mark.slow
def test_module_runs_as_a_separate_process() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "syngen_improve.testing", "--rpm", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[-1]
        req = urllib.request.Request(
            url + "/v1/messages", data=orjson.dumps(body()), headers=HEADERS
        )
        with urllib.request.urlopen(req) as resp:
            assert resp.headers["anthropic-ratelimit-requests-limit"] == "5"
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "'requests': 1" in err


async def test_close_releases_hung_requests() -> None:
    fake = FakeAnthropic(FakeConfig(first_faults=["hang"]))  # hangs for an hour by default
    pending = asyncio.create_task(post(fake, body()))
    while fake.counters.in_flight == 0:
        await asyncio.sleep(0.001)
    fake.close()
    assert (await pending).status_code == 500


def test_a_prefix_below_the_floor_is_not_cached() -> None:
    """As on the API: a marked prefix shorter than the model's minimum is billed as plain
    input and both cache counters stay 0, without an error; a long enough one is cached."""
    short = FakeAnthropic(FakeConfig())  # the model's floor: 4,096 tokens
    usage = run(post(short, body())).json()["usage"]
    assert usage["cache_creation_input_tokens"] == usage["cache_read_input_tokens"] == 0
    again = run(post(short, body())).json()["usage"]
    assert again["cache_read_input_tokens"] == 0
    assert again["input_tokens"] == usage["input_tokens"]
    assert short.counters.below_cache_floor == 2
    cached = FakeAnthropic(FakeConfig(cache_floor=1))
    first = run(post(cached, body())).json()["usage"]
    assert first["input_tokens"] < usage["input_tokens"]  # the prefix moved to the cache
    assert first["input_tokens"] + first["cache_creation_input_tokens"] == usage["input_tokens"]
    assert cached.counters.below_cache_floor == 0
    second = run(post(cached, body())).json()["usage"]
    assert cached.counters.cache_read_tokens == second["cache_read_input_tokens"] > 0


def test_a_structured_submit_tool_gets_a_structured_answer() -> None:
    """When the forced tool takes ``turns`` (a structured answer), the fake answers in that
    form, valid under the tool's schema, and the gate reads it back to the improvement."""
    import jsonschema

    from syngen_improve.context import SEVEN_FIELDS
    from syngen_improve.improve import check_reply
    from syngen_improve.llm import Reply, Usage
    from syngen_improve.prompts._structured import answer_schema
    from syngen_improve.validate import ToolRegistry

    schema = answer_schema(ToolRegistry.default(), SEVEN_FIELDS)
    tool = {"name": "submit_improved_example", "description": "x", "input_schema": schema}
    example = make_example(sessionMemory="")
    data = run(post(FakeAnthropic(), body(example, tools=[tool]))).json()
    (block,) = data["content"]
    answer = block["input"]
    assert set(answer) == {"turns"}
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(answer)) == []
    reply = Reply(content=data["content"], usage=Usage(), stop_reason="tool_use")
    verdict = check_reply(reply, example, schemas=ToolRegistry.default())
    assert verdict.accepted, verdict.errors
