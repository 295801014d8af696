"""The direct Messages client gives the same replies and errors as the SDK backend, over
real HTTP to the fake, without importing the SDK."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from syngen_improve import improve_dataset, sample_path
from syngen_improve.llm import AnthropicBackend, BackendError, DirectBackend, Engine, RetryPolicy
from syngen_improve.testing import FakeAnthropicServer, FakeConfig
from tests.helpers import fake_server_process
from tests.llm.test_anthropic import improve_request

FAST = RetryPolicy(base_delay=0.001, max_delay=0.002)
KEY = "sk-ant-api03-direct-0123456789abcdef"


async def test_the_same_reply_as_the_sdk_backend() -> None:
    # Two fresh fakes: the fake answers an example's second request differently.
    config = FakeConfig(api_key=KEY)
    async with (
        FakeAnthropicServer(config=config) as server,
        DirectBackend(api_key=KEY, base_url=server.url) as direct,
    ):
        mine = await direct.send(improve_request())
    async with (
        FakeAnthropicServer(config=config) as server,
        AnthropicBackend(api_key=KEY, base_url=server.url) as sdk,
    ):
        theirs = await sdk.send(improve_request())
    assert mine.content == theirs.content
    assert mine.usage == theirs.usage
    assert mine.stop_reason == theirs.stop_reason


@pytest.mark.parametrize(("config", "status", "kind"), [
    (FakeConfig(api_key="another"), 401, "authentication_error"),
    (FakeConfig(first_faults=["529"]), 529, "overloaded_error"),
    (FakeConfig(first_faults=["429"], retry_after=3), 429, "rate_limit_error"),
    (FakeConfig(first_faults=["400"]), 400, "invalid_request_error"),
])  # fmt: skip
async def test_errors_map_like_the_sdk_backend(config: FakeConfig, status: int, kind: str) -> None:
    async with (
        FakeAnthropicServer(config=config) as server,
        DirectBackend(api_key=KEY, base_url=server.url) as direct,
    ):
        with pytest.raises(BackendError) as info:
            await direct.send(improve_request())
    error = info.value
    assert (error.status, error.error_type) == (status, kind)
    assert error.request_id
    assert KEY[-12:] not in str(error)
    if status == 429:
        assert error.retry_after == 3
    if status == 401:
        assert "check ANTHROPIC_API_KEY" in str(error)


async def test_a_connection_error_is_a_service_failure() -> None:
    async with DirectBackend(api_key=KEY, base_url="http://127.0.0.1:9") as direct:
        with pytest.raises(BackendError) as info:
            await direct.send(improve_request())
    assert info.value.status is None
    assert info.value.error_type == "connection"


async def test_a_whole_run_through_it(tmp_path: Path) -> None:
    config = FakeConfig(first_faults=["529"])
    async with (
        FakeAnthropicServer(config=config) as server,
        DirectBackend(api_key=KEY, base_url=server.url) as direct,
    ):
        result = await improve_dataset(sample_path(), tmp_path, backend=direct, retry=FAST,
                                       progress=False)  # fmt: skip
    assert result.counts.improved == 120
    assert result.report.requests.retried == 120
    assert isinstance(Engine(DirectBackend(api_key=KEY)).backend, DirectBackend)


def test_it_does_not_import_the_sdk() -> None:
    code = (
        "import sys\n"
        "from syngen_improve.llm import DirectBackend\n"
        "DirectBackend(api_key='k', base_url='http://127.0.0.1:1')\n"
        "print('anthropic' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_the_cli_runs_with_backend_direct(tmp_path: Path) -> None:
    """`--backend direct` (and `backend="direct"`) makes the client from the environment."""
    out = tmp_path / "out"
    with fake_server_process("--api-key", KEY) as url:
        env = {**os.environ, "ANTHROPIC_BASE_URL": url, "ANTHROPIC_API_KEY": KEY}
        done = subprocess.run(
            [sys.executable, "-m", "syngen_improve", "improve", str(sample_path()), "--out",
             str(out), "--backend", "direct", "--no-progress", "--limit", "30"],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = (out / "report.json").read_text()
    assert '"improved": ' in report
    assert (out / "improved_examples.jsonl").read_text().count("\n") > 0
