"""Behind a gateway (tests/gateway.py: LiteLLM's behaviour, in front of our fake with a key
of its own): each route improves the examples with the origin's token counts, batches come
back through the configured host, the gateway's own words reach the user, a run refused
from the first request stops early, and extra headers reach it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from syngen_improve import ImproveConfig
from syngen_improve.analyze._route import Router
from syngen_improve.cli import main
from syngen_improve.testing import FakeAnthropicServer, FakeConfig
from tests.gateway import NO_CREDENTIAL, Gateway

UPSTREAM = "sk-ant-upstream-0123456789abcdef"  # the gateway's key at the origin
USER = "sk-gw-user-9876543210fedcba"  # the user's key at the gateway
MODEL = "claude-haiku-5-5"


@pytest.fixture(scope="module")
def thirty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 30 poor lines of the real slice (all poor: 30 requests at least)."""
    src = Path(__file__).parents[1] / "data" / "scored_sample.jsonl"
    lines = src.read_bytes().splitlines(keepends=True)
    poor = [r.line for r in Router.of(src, ImproveConfig()) if r.route == "poor"][:30]
    path = tmp_path_factory.mktemp("gw") / "thirty.jsonl"
    path.write_bytes(b"".join(lines[n - 1] for n in poor))
    return path


@pytest.fixture
def origin() -> Iterator[FakeAnthropicServer]:
    with FakeAnthropicServer(config=FakeConfig(api_key=UPSTREAM, batch_delay=0.05)) as server:
        yield server


@pytest.fixture
def gateway(origin: FakeAnthropicServer) -> Iterator[Gateway]:
    keys = frozenset({USER})
    with Gateway(origin.url, keys=keys, upstream_key=UPSTREAM, models=frozenset({MODEL})) as gw:
        yield gw


class Improve:
    """``improve(base, *flags)``: the CLI's improve of the thirty lines through ``base``
    (as ANTHROPIC_BASE_URL and OPENAI_BASE_URL, the user's key in both), into ``out``."""

    def __init__(self, thirty: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.thirty, self.out, self.env = thirty, out, monkeypatch

    def __call__(self, base: str, *more: str, key: str = USER) -> int:
        for name in ("ANTHROPIC_BASE_URL", "OPENAI_BASE_URL"):
            self.env.setenv(name, base)
        for name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY"):
            self.env.setenv(name, key)
        args = ["improve", str(self.thirty), "--out", str(self.out), "--no-cache"]
        return main([*args, "--no-progress", *more])

    def report(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.out / "report.json").read_text())
        return data


@pytest.fixture
def improve(thirty: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Improve:
    return Improve(thirty, tmp_path / "out", monkeypatch)


def origin_tokens(origin: FakeAnthropicServer) -> dict[str, int]:
    c = origin.counters
    return {
        "input": c.input_tokens,
        "output": c.output_tokens,
        "cache_read": c.cache_read_tokens,
        "cache_creation": c.cache_creation_tokens,
    }


@pytest.mark.parametrize("route", ["native", "pass-through"])
def test_both_routes_improve_all_thirty_with_the_origins_tokens(
    route: str, improve: Improve, origin: FakeAnthropicServer, gateway: Gateway
) -> None:
    base = gateway.url if route == "native" else f"{gateway.url}/anthropic"
    assert improve(base) == 0
    r = improve.report()
    assert r["counts"]["improved"] == 30
    assert r["tokens"] == origin_tokens(origin)  # what the origin counted, token for token
    assert origin.counters.by_status[401] == 0


def test_batch_results_come_through_the_configured_host(
    improve: Improve, origin: FakeAnthropicServer, gateway: Gateway
) -> None:
    """The batch's results_url names the origin; the results are fetched through the
    pass-through, and the user's key never reaches the origin (it would be a 401 there)."""
    assert improve(f"{gateway.url}/anthropic", "--backend", "batch") == 0
    assert improve.report()["counts"]["improved"] == 30
    assert origin.counters.by_status[401] == 0
    assert origin.counters.batches_created >= 1
    fetched = [s.path for s in gateway.seen if s.path.endswith("/results")]
    assert fetched
    assert all(p.startswith("/anthropic/v1/messages/batches/") for p in fetched)


@pytest.mark.filterwarnings("ignore::syngen_improve.errors.ModelWarning")
def test_an_unknown_model_is_said_in_the_gateways_words_and_stops_early(
    improve: Improve, gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every request refused with a 400 (the gateway does not route the model): the run
    stops within 25 requests (exit 75), quoting the gateway's sentence."""
    code = improve(gateway.url, "--model", "claude-nope")
    err = capsys.readouterr().err
    assert code == 75, err
    assert len(gateway.seen) <= 25
    assert "Invalid model name passed in model=claude-nope" in err
    assert "HTTP 400" in err


def test_a_missing_credential_is_said_in_the_gateways_words(
    improve: Improve, origin: FakeAnthropicServer, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = frozenset({USER})
    with Gateway(origin.url, keys=keys, upstream_key=None, models=frozenset({MODEL})) as gw:
        code = improve(gw.url)
    err = capsys.readouterr().err
    assert code != 0
    assert NO_CREDENTIAL in err
    assert "--header NAME=VALUE" in err  # the command line's spelling of the hint


def test_a_base_url_ending_in_v1_names_the_url_and_the_fix(
    improve: Improve, gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    code = improve(f"{gateway.url}/v1")
    err = capsys.readouterr().err
    assert code != 0
    assert f"{gateway.url}/v1/v1/messages was not found" in err
    assert "never ending in /v1" in err
    assert "HTTP 404: HTTP 404" not in err


def test_a_wrong_gateway_key_echoed_back_is_redacted(
    improve: Improve, gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    """The gateway echoes the key it got (LiteLLM does): neither the message nor any file
    of the run holds a piece of it."""
    wrong = "sk-gw-wrong-5555666677778888"
    code = improve(gateway.url, key=wrong)
    err = capsys.readouterr().err
    assert code != 0
    assert "invalid proxy key" in err
    assert "[redacted]" in err
    files = (p.read_bytes() for p in improve.out.rglob("*") if p.is_file())
    for text in [err.encode(), *files]:
        assert wrong[-12:].encode() not in text
        assert wrong[3:11].encode() not in text


def test_the_gateways_own_key_goes_in_a_header_of_its_own(
    improve: Improve, origin: FakeAnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bring your own key: the gateway has no key of its own; the user's Anthropic key goes
    in x-api-key and the gateway's in --header x-litellm-api-key (or the variable)."""
    gateway_key = "sk-litellm-virtual-1234567890ab"
    keys = frozenset({gateway_key})
    with Gateway(origin.url, keys=keys, upstream_key=None, models=frozenset({MODEL})) as gw:
        flag = ["--header", f"x-litellm-api-key={gateway_key}", "--header", "x-tenant=lab-7"]
        assert improve(gw.url, *flag, key=UPSTREAM) == 0
        assert gateway_key[-10:] not in (improve.out / "report.json").read_text()
        monkeypatch.setenv("SYNGEN_IMPROVE_HEADERS", f"x-litellm-api-key={gateway_key}\n")
        improve.out = improve.out.with_name("env")
        assert improve(gw.url, key=UPSTREAM) == 0
    assert {s.gateway_key for s in gw.seen} == {gateway_key}
    assert {s.provider_key for s in gw.seen} == {UPSTREAM}
    assert any(s.headers.get("x-tenant") == "lab-7" for s in gw.seen)
    assert gateway_key[-10:] not in (improve.out / "report.json").read_text()


# Claude's documented prices, per million tokens (Haiku 5.5, prompts up to 100K tokens):
# input $0.10, output $0.50, cache writes (5 min) $0.125, cache reads 0.1x input.
PRICES = {"input": 0.10, "output": 0.50, "cache_creation": 0.125, "cache_read": 0.01}


def test_the_openai_route_to_claude_keeps_the_prompt_cache(
    improve: Improve, origin: FakeAnthropicServer, gateway: Gateway
) -> None:
    """--backend openai through the gateway's chat completions: the system prompt carries
    the cache mark, the origin reports cache reads on every answer after the first, and
    the report's cost is that usage priced at Claude's prices."""
    assert improve(f"{gateway.url}/v1", "--backend", "openai") == 0
    # Chat completions cannot turn thinking off: Haiku 5.5 thinks by default, so the tool
    # is not forced (the API refuses that with thinking on): no request refused.
    assert origin.counters.by_status[400] == 0
    assert improve.report()["thinking"]["tool_choice"] == "auto"
    assert len(gateway.usages) >= 30
    assert all(u["cache_read_input_tokens"] > 0 for u in gateway.usages[1:])
    r = improve.report()
    totals = origin_tokens(origin)
    assert r["tokens"] == totals
    priced = sum(totals[k] * PRICES[k] for k in PRICES) / 1e6
    assert r["cost_usd"] == pytest.approx(priced, abs=1e-6)
    assert r["cache"]["status"] == "active"


@pytest.mark.filterwarnings("ignore::syngen_improve.errors.ModelWarning")
def test_nothing_listening_at_the_default_url_stops_within_seconds(
    improve: Improve, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """OPENAI_BASE_URL unset and nothing at the default address (here a closed port in its
    place): the run stops within seconds, saying the URL was the default."""
    closed = "http://127.0.0.1:9/v1"
    monkeypatch.setattr("syngen_improve.llm._openai.DEFAULT_BASE_URL", closed)
    started = time.monotonic()
    code = improve("", "--backend", "openai", "--model", "qwen3")  # "": no base URL set
    err = capsys.readouterr().err
    assert code == 75, err
    assert time.monotonic() - started < 20
    assert f"{closed} (the default: OPENAI_BASE_URL is not set)" in err
    assert "reached no server" in err


def test_the_native_route_paces_without_the_rate_limit_headers(improve: Improve) -> None:
    """The native route drops anthropic-ratelimit-* and request-id: --rpm alone keeps the
    run within the origin's limit (no 429 reaches the origin's counters)."""
    config = FakeConfig(api_key=UPSTREAM, rpm=300)
    models = frozenset({MODEL})
    with (
        FakeAnthropicServer(config=config) as origin,
        Gateway(origin.url, keys=frozenset({USER}), upstream_key=UPSTREAM, models=models) as gw,
    ):
        assert improve(gw.url, "--rpm", "300") == 0
        assert origin.counters.rate_limited == 0
    assert improve.report()["counts"]["improved"] == 30


def test_headers_in_python_are_checked_by_name() -> None:
    assert ImproveConfig.of(headers={"X-Tenant": "lab-7"}).headers == (("x-tenant", "lab-7"),)
    assert ImproveConfig.of(headers=["x-a=1"]).headers == (("x-a", "1"),)
    with pytest.raises(ValueError, match="'headers' takes NAME=VALUE"):
        ImproveConfig.of(headers=[1])
