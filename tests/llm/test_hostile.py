"""A server that breaks the wire format, lies in its headers or echoes the key costs one
answer at most: never the run, never a hang, never the key in any output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2
import pytest

import syngen_improve.llm._retry
from syngen_improve import improve_dataset, sample_path
from syngen_improve.llm import AnthropicBackend, DirectBackend, RetryPolicy, parse_retry_after
from syngen_improve.llm._redact import MIN_PIECE, Redactor
from syngen_improve.testing import FakeAnthropic, FakeAnthropicServer, FakeConfig

FAST = RetryPolicy(base_delay=0.001, max_delay=0.005)
SENTINEL = "sk-ant-api03-SENTINEL-7c1d9e2f4a6b8c0d2e4f6a8b"


@pytest.fixture(params=["direct", "sdk"])
def client(request: pytest.FixtureRequest) -> str:
    """Both clients: the default (real HTTP to the fake) and the SDK (in-process)."""
    return str(request.param)


async def run(
    out: Path, config: FakeConfig, key: str = "sk-test", client: str = "sdk"
) -> tuple[Any, FakeAnthropic]:
    fake = FakeAnthropic(config)
    if client == "direct":
        async with (
            FakeAnthropicServer(fake) as server,
            DirectBackend(api_key=key, base_url=server.url) as direct,
        ):
            result = await improve_dataset(sample_path(), out, backend=direct, retry=FAST,
                                           progress=False, concurrency=16)  # fmt: skip
        return result, fake
    http = httpx2.AsyncClient(transport=fake.transport())
    backend = AnthropicBackend(api_key=key, base_url="http://fake", http_client=http)
    async with backend:
        result = await improve_dataset(sample_path(), out, backend=backend, retry=FAST,
                                       progress=False, concurrency=16)  # fmt: skip
    return result, fake


@pytest.mark.parametrize(
    "kind",
    ["content_string", "block_not_object", "body_array", "usage_string", "usage_negative",
     "remaining_negative"],
)  # fmt: skip
async def test_a_hostile_reply_costs_one_request_not_the_run(
    kind: str, tmp_path: Path, client: str
) -> None:
    result, fake = await run(tmp_path, FakeConfig(hostile_rates={kind: 0.05}, seed=5),
                             client=client)  # fmt: skip
    assert fake.counters.hostile[kind] > 0
    assert result.counts.improved == 120
    assert result.report.complete
    if kind != "remaining_negative":  # retried as a bad reply; the header only tightens limits
        assert result.report.requests.retried >= fake.counters.hostile[kind]
    assert 0 < result.report.cost_usd < 0.1  # no cost from nonsense usage
    assert result.report.tokens.output > 0


async def test_a_day_long_retry_after_is_capped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert parse_retry_after({"retry-after": "86400"}) == syngen_improve.llm._retry.MAX_RETRY_AFTER
    assert parse_retry_after({"retry-after": "inf"}) == syngen_improve.llm._retry.MAX_RETRY_AFTER
    assert parse_retry_after({"retry-after": "nan"}) in (None, 0.0)
    monkeypatch.setattr(syngen_improve.llm._retry, "MAX_RETRY_AFTER", 0.01)
    config = FakeConfig(hostile_rates={"retry_after_day": 0.15, "retry_after_inf": 0.15}, seed=2)
    result, fake = await run(tmp_path, config)
    assert fake.counters.hostile["retry_after_day"] > 0
    assert result.counts.improved == 120


async def test_the_key_never_reaches_any_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], client: str
) -> None:
    config = FakeConfig(hostile_rates={"key_echo": 0.3, "key_in_request_id": 0.3}, seed=4,
                        fault_rates={"500": 0.2})  # fmt: skip
    result, fake = await run(tmp_path, config, key=SENTINEL, client=client)
    assert fake.counters.hostile["key_echo"] > 0
    assert fake.counters.hostile["key_in_request_id"] > 0
    out = capsys.readouterr()
    texts = [p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file()]
    texts += [out.out, out.err, repr(result), json.dumps(result.report.to_dict())]
    # Every 8-character piece past "sk-ant-api03-", which opens every Anthropic key.
    secret = SENTINEL[len("sk-ant-api03-") :].lower()
    pieces = {secret[i : i + MIN_PIECE] for i in range(len(secret) - MIN_PIECE + 1)}
    for text in texts:
        lowered = text.lower()
        assert not any(piece in lowered for piece in pieces)


def test_the_redactor_catches_pieces_in_any_case() -> None:
    redact = Redactor(SENTINEL)
    assert redact(f"echo {SENTINEL[:-3]}!") == "echo [redacted]!"
    assert redact(f"id={SENTINEL.upper()[10:30]}") == "id=[redacted]"
    assert redact("a harmless message") == "a harmless message"
    assert redact("x" * 5000).endswith("...")
    assert Redactor(None)("anything") == "anything"


async def test_a_server_that_says_come_back_tomorrow_ends_the_run_fast(
    tmp_path: Path, client: str
) -> None:
    """retry-after of a day on 30% of requests: those requests give up at once as service
    failures (a resume retries them); nobody waits a day, or a minute."""
    config = FakeConfig(hostile_rates={"retry_after_day": 0.3}, seed=9)
    result, fake = await run(tmp_path, config, client=client)
    assert fake.counters.hostile["retry_after_day"] > 0
    assert result.counts.retryable > 0
    assert result.counts.improved + result.counts.retryable == 120
    assert result.report.elapsed_s < 30
    again, _ = await improve_again(tmp_path)
    assert again.counts.improved == 120


async def improve_again(out: Path) -> tuple[Any, FakeAnthropic]:
    fake = FakeAnthropic(FakeConfig())
    client = httpx2.AsyncClient(transport=fake.transport())
    backend = AnthropicBackend(api_key="sk-test", base_url="http://fake", http_client=client)
    async with backend:
        result = await improve_dataset(sample_path(), out, backend=backend, retry=FAST,
                                       progress=False, resume=True)  # fmt: skip
    return result, fake
