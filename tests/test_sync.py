"""``improve_dataset_sync`` inside a running event loop (a notebook) stops on Ctrl-C."""

from __future__ import annotations

import _thread
import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from syngen_improve import improve_dataset_sync, sample_path
from syngen_improve.testing import FakeAnthropicServer, FakeConfig


def test_ctrl_c_in_a_notebook_cell_cancels_the_run_within_a_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 120 poor examples, 2 at a time, 0.2 s each: the run would take 12 s.
    with FakeAnthropicServer(config=FakeConfig(latency=0.2)) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")

        async def cell() -> Any:
            return improve_dataset_sync(sample_path(), tmp_path, progress=False, concurrency=2)

        pressed: list[float] = []

        def press_ctrl_c() -> None:  # what Jupyter's "interrupt kernel" does
            pressed.append(time.monotonic())
            _thread.interrupt_main()

        loop = asyncio.new_event_loop()  # a running loop without asyncio.run's SIGINT handler
        timer = threading.Timer(1.0, press_ctrl_c)
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                loop.run_until_complete(cell())
            stopped = time.monotonic()
        finally:
            timer.cancel()
            loop.close()
        requests = server.counters.requests
    assert stopped - pressed[0] < 1.0
    assert requests < 40  # stopped long before the end
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["interrupted"] is True
    assert report["complete"] is False
