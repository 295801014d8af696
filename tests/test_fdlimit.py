"""The open-file limit: raised as far as a run needs, refused with the numbers when it
cannot be, and named (not some innocent file) when it is hit anyway."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest

from syngen_improve import sample_path
from syngen_improve.cli import main
from syngen_improve.errors import TooManyOpenFiles
from syngen_improve.llm import AnthropicBackend
from tests.llm.test_anthropic import improve_request

resource = pytest.importorskip("resource")  # no such limit on Windows


def limited(soft: int, hard: int) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_the_soft_limit_is_raised_within_the_hard_one() -> None:
    code = (
        "import resource\n"
        "from syngen_improve._fdlimit import ensure_open_files\n"
        "ensure_open_files(100)\n"
        "print(resource.getrlimit(resource.RLIMIT_NOFILE)[0])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, preexec_fn=lambda: limited(40, 1024))  # fmt: skip
    assert int(done.stdout) == 100 + 48


def test_a_hard_limit_too_low_is_refused_with_the_numbers(tmp_path: Path) -> None:
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "syngen_improve", "improve", str(sample_path()), "--out",
           str(out), "--backend", "fake", "--no-progress", "--concurrency", "16"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False,
                          preexec_fn=lambda: limited(40, 40))  # fmt: skip
    assert done.returncode == 2
    assert "needs about 80 open files" in done.stderr  # both ends of 16 sockets, + 48
    assert "at most 40" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (out / "improved_examples.jsonl").exists()


class OutOfFiles(httpx2.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        raise OSError(errno.EMFILE, os.strerror(errno.EMFILE))


async def test_a_connection_that_fails_for_lack_of_files_names_the_limit() -> None:
    client = httpx2.AsyncClient(transport=OutOfFiles())
    backend = AnthropicBackend(api_key="sk-test", base_url="http://fake", http_client=client)
    async with backend:
        with pytest.raises(TooManyOpenFiles, match=r"ulimit -n.*\(concurrency=\)") as raised:
            await backend.send(improve_request())
    assert "lower the concurrency (--concurrency)" in raised.value.cli_message()


def test_an_open_that_fails_for_lack_of_files_does_not_blame_the_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def analyze(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EMFILE, os.strerror(errno.EMFILE), "/venv/site-packages/jsonschema")

    monkeypatch.setattr("syngen_improve.cli.analyze.analyze_dataset", analyze)
    assert main(["analyze", str(sample_path())]) == 2
    err = capsys.readouterr().err
    assert "jsonschema" not in err
    assert "too many open files" in err
    assert "ulimit -n" in err
