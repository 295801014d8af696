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
