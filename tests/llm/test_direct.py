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
    """Nothing listening: a failure that never reached a server ('connect'), naming the
    URL and where it was set."""
    async with DirectBackend(api_key=KEY, base_url="http://127.0.0.1:9") as direct:
        with pytest.raises(BackendError) as info:
            await direct.send(improve_request())
    assert info.value.status is None
    assert info.value.error_type == "connect"
    assert "http://127.0.0.1:9 (base_url)" in str(info.value)


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


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The CLI in a child process; its last stdout line says whether the SDK was imported."""
    code = (
        "import sys\n"
        "from syngen_improve.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "print('sdk imported:', 'anthropic' in sys.modules)\n"
        "sys.exit(code)\n"
    )
    return subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True,
                          text=True, check=False)  # fmt: skip


@pytest.mark.parametrize(("backend", "sdk"), [([], False), (["--backend", "sdk"], True)])
def test_the_cli_default_is_this_client_and_sdk_names_the_sdk(
    tmp_path: Path, backend: list[str], sdk: bool
) -> None:
    out = tmp_path / "out"
    with fake_server_process("--api-key", KEY) as url:
        env = {**os.environ, "ANTHROPIC_BASE_URL": url, "ANTHROPIC_API_KEY": KEY}
        done = _cli(["improve", str(sample_path()), "--out", str(out), "--no-progress",
                     "--limit", "30", *backend], env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == f"sdk imported: {sdk}"
    report = (out / "report.json").read_text()
    assert '"improved": ' in report
    assert (out / "improved_examples.jsonl").read_text().count("\n") > 0


async def test_a_proxy_from_the_environment_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTP(S)_PROXY is honoured as the SDK honours it; the fake plays the proxy and
    answers the absolute-form request meant for a host that does not resolve."""
    async with FakeAnthropicServer(config=FakeConfig(api_key=KEY)) as server:
        monkeypatch.setenv("HTTP_PROXY", server.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        async with DirectBackend(api_key=KEY, base_url="http://api.anthropic.invalid") as b:
            reply = await b.send(improve_request())
        assert reply.content
        assert server.counters.requests == 1


async def test_loopback_never_goes_through_a_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    async with (
        FakeAnthropicServer(config=FakeConfig(api_key=KEY)) as server,
        DirectBackend(api_key=KEY, base_url=server.url) as direct,
    ):
        assert (await direct.send(improve_request())).content


async def test_headers_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK's auth and version headers, our user agent, and a gateway's extra headers."""
    from aiohttp import web

    seen: list[dict[str, str]] = []

    async def messages(request: web.Request) -> web.Response:
        seen.append({k.lower(): v for k, v in request.headers.items()})
        return web.json_response({"error": {"type": "overloaded_error", "message": "busy"}},
                                 status=529)  # fmt: skip

    app = web.Application()
    app.router.add_post("/v1/messages", messages)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with DirectBackend(api_key=KEY, base_url=f"http://127.0.0.1:{port}",
                                 default_headers={"X-Gateway-Team": "kto"}) as direct:  # fmt: skip
            with pytest.raises(BackendError):
                await direct.send(improve_request())
    finally:
        await runner.cleanup()
    (headers,) = seen
    assert headers["x-api-key"] == KEY  # the documented header, which some gateways read alone
    assert headers["authorization"] == f"Bearer {KEY}"  # a gateway's host: both kinds served
    assert headers["anthropic-version"] == "2026-10-21"
    assert headers["user-agent"].startswith("syngen-improve/")
    assert headers["x-gateway-team"] == "kto"


def test_the_api_host_gets_only_the_documented_header() -> None:
    direct = DirectBackend(api_key=KEY)
    assert direct._headers["x-api-key"] == KEY
    assert "authorization" not in direct._headers


async def test_an_attempt_counts_as_sent_once_its_body_went_out() -> None:
    """Ctrl-C while the server holds the answer: the attempt was sent (the server saw it);
    cancelled before it started: it was not (``requests.cancelled`` in the report)."""
    import asyncio

    from aiohttp import web

    from syngen_improve.llm._backend import SENDING, Sending

    got_body = asyncio.Event()

    async def messages(request: web.Request) -> web.Response:
        await request.read()
        got_body.set()
        await asyncio.Event().wait()  # never answers; cancelled when the server closes
        raise AssertionError("unreachable")

    app = web.Application()
    app.router.add_post("/v1/messages", messages)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]

    async def attempt(sending: Sending) -> None:
        SENDING.set(sending)
        await direct.send(improve_request())

    try:
        async with DirectBackend(api_key=KEY, base_url=f"http://127.0.0.1:{port}") as direct:
            held, early = Sending(), Sending()
            in_flight = asyncio.create_task(attempt(held))
            not_started = asyncio.create_task(attempt(early))
            not_started.cancel()
            await got_body.wait()
            in_flight.cancel()
            for task in (in_flight, not_started):
                with pytest.raises(asyncio.CancelledError):
                    await task
    finally:
        await runner.cleanup()
    assert (held.sent, early.sent) == (True, False)
