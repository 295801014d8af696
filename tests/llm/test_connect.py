"""Keys and base URLs are checked before the first request: a key with a trailing newline
works, one a header cannot carry and a URL without a scheme are refused by name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest

from syngen_improve import sample_path
from syngen_improve.errors import UsageError
from syngen_improve.llm import AnthropicBackend, BatchBackend, OpenAIBackend
from syngen_improve.testing import FakeAnthropic, FakeConfig
from tests.helpers import fake_server_process
from tests.llm.test_anthropic import improve_request

KEY = "sk-ant-api03-abcdefghijklmnop"


async def test_surrounding_whitespace_is_not_part_of_the_key() -> None:
    fake = FakeAnthropic(FakeConfig(api_key=KEY))
    client = httpx2.AsyncClient(transport=fake.transport())
    async with AnthropicBackend(api_key=f"  {KEY}\r\n", base_url="http://fake",
                                http_client=client) as backend:  # fmt: skip
        reply = await backend.send(improve_request())
    assert reply.usage.output > 0


@pytest.mark.parametrize("bad", [f"{KEY[:10]}\n{KEY[10:]}", f"{KEY[:10]} {KEY[10:]}",
                                 f"{KEY}é", f"{KEY}\x7f"])  # fmt: skip
def test_a_key_a_header_cannot_carry_is_refused_without_showing_it(
    bad: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(UsageError, match="api_key has a character") as info:
        AnthropicBackend(api_key=bad)
    assert KEY[:8] not in str(info.value)
    assert KEY[-8:] not in str(info.value)
    monkeypatch.setenv("ANTHROPIC_API_KEY", bad)
    with pytest.raises(UsageError, match="ANTHROPIC_API_KEY has a character"):
        BatchBackend()
    monkeypatch.setenv("OPENAI_API_KEY", bad)
    with pytest.raises(UsageError, match="OPENAI_API_KEY has a character"):
        OpenAIBackend(model="m")


@pytest.mark.parametrize("url", ["localhost:8080", "127.0.0.1:4010/v1", "ftp://host", "http://"])
def test_a_base_url_without_scheme_or_host_is_refused_by_name(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(UsageError, match="base_url must be an http"):
        AnthropicBackend(api_key=KEY, base_url=url)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", url)
    with pytest.raises(UsageError, match="ANTHROPIC_BASE_URL must be an http"):
        AnthropicBackend(api_key=KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    with pytest.raises(UsageError, match="OPENAI_BASE_URL must be an http"):
        OpenAIBackend(model="m")


def test_a_key_read_from_a_file_with_its_newline_runs(tmp_path: Path) -> None:
    """`export ANTHROPIC_API_KEY="$(cat key.txt)"` keeps no newline, but a .env loader or
    `read -r` of a CRLF file does: the run must not mistake that for an outage."""
    out = tmp_path / "out"
    with fake_server_process("--api-key", KEY) as url:
        env = {**os.environ, "ANTHROPIC_BASE_URL": url, "ANTHROPIC_API_KEY": KEY + "\r\n"}
        done = subprocess.run(
            [sys.executable, "-m", "syngen_improve", "improve", str(sample_path()), "--out",
             str(out), "--no-progress", "--limit", "20"],
            env=env, capture_output=True, text=True, check=False, timeout=50,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (out / "improved_examples.jsonl").read_text().count("\n") > 0


def test_a_base_url_with_credentials_is_exit_2_without_showing_them(tmp_path: Path) -> None:
    env = {**os.environ, "ANTHROPIC_API_KEY": "sk-x",
           "ANTHROPIC_BASE_URL": "https://gateway-user:hunter2pass@127.0.0.1:9/"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "syngen_improve", "improve", str(sample_path()),
         "--out", str(tmp_path / "out"), "--no-progress", "--limit", "3"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "ANTHROPIC_BASE_URL carries credentials" in done.stderr
    assert "https://127.0.0.1:9/" in done.stderr
    assert "hunter2pass" not in done.stderr
    assert "gateway-user" not in done.stderr
    assert "Traceback" not in done.stderr


def test_a_header_is_name_equals_value_and_its_value_is_never_shown() -> None:
    from syngen_improve.llm._connect import parse_header

    assert parse_header(" X-Tenant = lab-7 ", source="--header") == ("x-tenant", "lab-7")
    for bad in ("sk-ant-secret-0123456789", "bad name=sk-ant-secret-0123456789"):
        with pytest.raises(UsageError, match="--header: give NAME=VALUE") as info:
            parse_header(bad, source="--header")
        assert "secret" not in str(info.value)
    with pytest.raises(UsageError, match=r"the value of x-key\) has a character") as info:
        parse_header("x-key=sk-ant-\x01secret", source="--header")
    assert "secret" not in str(info.value)


def test_headers_from_the_variable_then_the_option(monkeypatch: pytest.MonkeyPatch) -> None:
    from syngen_improve.llm._connect import HEADERS_ENV, extra_headers

    monkeypatch.setenv(HEADERS_ENV, "x-tenant=lab-7\n\nX-LiteLLM-API-Key=sk-env-1234567890\n")
    assert extra_headers({"x-litellm-api-key": "sk-opt-1234567890"}) == {
        "x-tenant": "lab-7",
        "x-litellm-api-key": "sk-opt-1234567890",
    }
    monkeypatch.setenv(HEADERS_ENV, "x-tenant=lab-7\nno equals sign here")
    with pytest.raises(UsageError, match=f"{HEADERS_ENV} line 2"):
        extra_headers(None)


def test_header_values_that_look_like_keys_are_redacted() -> None:
    from syngen_improve.llm._connect import secret_values
    from syngen_improve.llm._redact import Redactor

    headers = {
        "x-litellm-api-key": "sk-gw-0123456789abcdef",
        "x-tenant": "lab-7",
        "x-custom": "Bearer tok9fa8b7c6d5e4f3a2b1",  # a key under a name that does not say so
        "x-region": "europe-west4-production",  # letters and digits, but words: not a key
    }
    found = secret_values(headers)
    assert "sk-gw-0123456789abcdef" in found
    assert "tok9fa8b7c6d5e4f3a2b1" in found
    assert "lab-7" not in found
    redact = Redactor("sk-ant-key-000000000", found)
    said = redact("proxy said: bad key sk-gw-0123456789abcdef and tok9fa8b7c6d5e4f3a2b1")
    assert "0123456789" not in said
    assert "9fa8b7c6" not in said
    assert said.count("[redacted]") == 2


async def test_every_backend_sends_the_extra_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    """--header reaches the server from the SDK backend too (the direct and the OpenAI
    ones are run through a gateway in tests/llm/test_gateways.py)."""
    seen: list[str | None] = []
    fake = FakeAnthropic(FakeConfig())

    async def record(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.headers.get("x-tenant"))
        return await fake.transport().handle_async_request(request)

    client = httpx2.AsyncClient(transport=httpx2.MockTransport(record))
    monkeypatch.setenv("SYNGEN_IMPROVE_HEADERS", "x-tenant=lab-7")
    async with AnthropicBackend(api_key=KEY, base_url="http://fake", http_client=client) as b:
        await b.send(improve_request())
    assert seen == ["lab-7"]
