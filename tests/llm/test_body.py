"""Reply bodies are read within a cap, compressed or not: a gzip bomb or an endless body
is an error saying so, at a bounded cost in memory."""

from __future__ import annotations

import contextlib
import gzip
import os
import subprocess
import sys
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from aiohttp import web

from syngen_improve import sample_path
from syngen_improve.llm import BackendError, DirectBackend, Request
from syngen_improve.llm._body import MAX_BODY
from syngen_improve.llm._connect import without_credentials
from syngen_improve.testing import FakeAnthropicServer, FakeConfig
from tests.helpers import fake_server_process

REQUEST = Request(system="s", messages=[{"role": "user", "content": "hi"}], max_tokens=64)


async def test_a_gzip_bomb_is_an_error_not_a_gigabyte() -> None:
    config = FakeConfig(hostile_rates={"gzip_bomb": 1.0})
    async with (
        FakeAnthropicServer(config=config) as server,
        DirectBackend(api_key="sk-t", base_url=server.url) as backend,
    ):
        with pytest.raises(BackendError, match="over 16 MiB once inflated") as caught:
            await backend.send(REQUEST)
    assert caught.value.error_type == "bad_response"


@contextlib.asynccontextmanager
async def serving(body: bytes, headers: dict[str, str]) -> AsyncIterator[str]:
    """A server answering every Messages request with ``body`` and ``headers``; its URL."""

    async def messages(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=body, headers={"content-type": "application/json", **headers})

    app = web.Application()
    app.router.add_post("/v1/messages", messages)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("headers", "body", "match"),
    [
        ({"content-encoding": "br"}, b"\x0b\x02\x80{}\x03", "encoded as 'br'"),
        ({}, b" " * (MAX_BODY + 1), "over 16 MiB as sent"),
        ({"content-encoding": "deflate"}, zlib.compress(b" " * (MAX_BODY + 10)), "inflated"),
    ],
    ids=["unasked-encoding", "endless-plain", "deflate-bomb"],
)
async def test_other_hostile_bodies(headers: dict[str, str], body: bytes, match: str) -> None:
    async with (
        serving(body, headers) as url,
        DirectBackend(api_key="sk-t", base_url=url) as backend,
    ):
        with pytest.raises(BackendError, match=match):
            await backend.send(REQUEST)


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "identity"])
async def test_a_compressed_reply_within_the_cap_is_read(encoding: str) -> None:
    message = {"id": "m", "type": "message", "role": "assistant", "model": "claude-haiku-5-5",
               "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn",
               "usage": {"input_tokens": 5, "output_tokens": 2}}  # fmt: skip
    raw = orjson.dumps(message)
    body = {"gzip": gzip.compress, "deflate": zlib.compress}.get(encoding, bytes)(raw)
    async with (
        serving(body, {"content-encoding": encoding}) as url,
        DirectBackend(api_key="sk-t", base_url=url) as backend,
    ):
        reply = await backend.send(REQUEST)
    assert reply.content == message["content"]
    assert reply.usage.output == 2


@pytest.mark.slow
def test_the_process_stays_small_against_a_300_mb_bomb(tmp_path: Path) -> None:
    """The CLI at concurrency 1 against a server whose every answer is a gzip body that
    inflates to 300 MB: the examples fail as bad replies, the process never holds it."""
    probe = (
        "import resource, subprocess, sys; "
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    with fake_server_process("--hostile", "gzip_bomb=1") as url:
        env = {**os.environ, "ANTHROPIC_BASE_URL": url, "ANTHROPIC_API_KEY": "sk-bomb"}
        cmd = [sys.executable, "-m", "syngen_improve", "improve", str(sample_path()),
               "--out", str(tmp_path / "out"), "--limit", "1", "--concurrency", "1",
               "--no-progress", "--timeout", "30"]  # fmt: skip
        done = subprocess.run([sys.executable, "-c", probe, *cmd], env=env,
                              capture_output=True, text=True, check=True)  # fmt: skip
    peak_mb = int(done.stdout.strip()) / 1024  # ru_maxrss is in KiB on Linux
    print(f"peak RSS {peak_mb:.0f} MB")
    assert peak_mb < 300, peak_mb
    report = (tmp_path / "out" / "report.json").read_text()
    assert "once inflated" in report


def test_credentials_are_taken_out_of_a_url() -> None:
    assert without_credentials("https://u:p@h.example:8443/x?y") == "https://h.example:8443/x?y"
    assert without_credentials("https://h.example/x") == "https://h.example/x"
    assert without_credentials("http://[::1") == "an address that is not a URL"
