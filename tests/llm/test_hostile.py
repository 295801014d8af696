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
from syngen_improve.testing import FakeAnthropic, FakeAnthropicServer, FakeBackend, FakeConfig

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
     "remaining_negative", "usage_huge"],
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


async def improve_again(out: Path) -> tuple[Any, FakeBackend]:
    async with FakeBackend() as backend:
        result = await improve_dataset(sample_path(), out, backend=backend, retry=FAST,
                                       progress=False, resume=True)  # fmt: skip
    return result, backend


async def test_a_redirect_stops_the_run_naming_the_base_url_and_where_it_points(
    tmp_path: Path, client: str
) -> None:
    """A 301 is the base URL's fault, not any example's: the run stops at once (exit 2)
    with nothing in failed.jsonl; no client follows it (a POST would arrive as a GET)."""
    from syngen_improve.errors import EXIT_USAGE, ServiceRefused

    with pytest.raises(ServiceRefused) as caught:
        await run(tmp_path, FakeConfig(hostile_rates={"redirect": 1.0}), client=client)
    assert caught.value.exit_code == EXIT_USAGE
    message = str(caught.value)
    assert "301" in message
    if client == "direct":
        assert "/moved/v1/messages" in message
        assert "base URL http://127.0.0.1:" in message
    assert (tmp_path / "failed.jsonl").read_bytes() == b""


async def test_headers_saying_nothing_is_left_until_tomorrow_stop_the_run_at_once(
    tmp_path: Path, client: str
) -> None:
    """200s whose headers claim 1 request and 1 token a minute, none left until tomorrow:
    the run stops as resumable (exit 75) after its first answers, saying why; it does not
    creep at one request a minute."""
    from syngen_improve.llm import ServiceUnavailable

    config = FakeConfig(hostile_rates={"tiny_limits": 1.0})
    with pytest.raises(ServiceUnavailable) as caught:
        await run(tmp_path, config, client=client)
    assert "rate-limit headers" in str(caught.value)
    assert "resume=True" in str(caught.value)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["requests"]["total"] <= 16  # the first answers: those in flight with it


async def test_headers_with_a_limit_below_one_request_hold_until_their_reset(
    tmp_path: Path,
) -> None:
    """A limit of one token a minute resetting within the patience: every worker waits for
    the reset, then goes on (the bucket does not crawl at one token a minute)."""
    from syngen_improve.llm import RateLimiter

    limiter = RateLimiter()
    from syngen_improve.llm._limits import starved

    soon = "anthropic-ratelimit-input-tokens-reset"
    headers = {"anthropic-ratelimit-input-tokens-limit": "1",
               "anthropic-ratelimit-input-tokens-remaining": "1",
               soon: "2099-01-01T00:00:00Z"}  # fmt: skip
    need = {"requests": 1.0, "input": 3000.0, "output": 8192.0}
    limiter.observe(headers, need=need)
    assert limiter.limit("input") is None  # not learned: no pacing serves it
    (found,) = starved(headers, need=need)
    assert found.below_need
    assert "less than one request needs" in found.describe()
