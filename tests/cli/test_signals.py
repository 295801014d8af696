"""Stop signals around an async command (``cli/_signals.py``), in a child process: the
handlers are the process's."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# A job that keeps an idle thread alive (as the default executor does after the finisher
# ran) is stopped by SIGINT and gets three more while it cleans up (acknowledged once);
# then, on the way out, the process sends itself SIGINT and SIGTERM again and again. Held
# after a stop, none may interrupt or kill it; the signal being blocked in the main thread
# only (the earlier way) sent them to the idle thread, which raised KeyboardInterrupt in the
# main one.
_HELD = """
import asyncio, os, signal, threading, time
from syngen_improve.cli._signals import hold_signals_after_a_stop, run_async

hold_signals_after_a_stop()
idle = threading.Event()
threading.Thread(target=idle.wait, daemon=True).start()

async def job():
    os.kill(os.getpid(), signal.SIGINT)
    try:
        await asyncio.sleep(30)
    finally:  # the report being written
        for _ in range(3):
            os.kill(os.getpid(), signal.SIGINT)
            await asyncio.sleep(0.01)

try:
    run_async(job)
except KeyboardInterrupt:
    print("stopped", flush=True)
for _ in range(300):
    os.kill(os.getpid(), signal.SIGINT)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(0.0005)
idle.set()
print("held", flush=True)
"""

# Not held (a tool calling main() in its own process): the handlers the process had are
# put back, and a stop signal afterwards is Python's KeyboardInterrupt again.
_RESTORED = """
import asyncio, signal
from syngen_improve.cli._signals import run_async

before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)

async def job():
    await asyncio.sleep(0)
    return 7

print(run_async(job), (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before)
"""

# SIGTERM first: Terminated (exit 143 at the console), whatever comes after it.
_TERMINATED = """
import asyncio, os, signal
from syngen_improve.cli._signals import hold_signals_after_a_stop, run_async
from syngen_improve.errors import Terminated

hold_signals_after_a_stop()

async def job():
    os.kill(os.getpid(), signal.SIGTERM)
    try:
        await asyncio.sleep(30)
    finally:
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.sleep(0.05)

try:
    run_async(job)
except Terminated as exc:
    print(exc)
"""


def _run(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_stop_signals_after_a_stop_are_held_to_the_exit() -> None:
    done = _run(_HELD)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["stopped", "held"]
    assert "Traceback" not in done.stderr
    assert done.stderr.count("still writing the report") == 1


def test_the_handlers_are_put_back_when_nothing_stopped_the_job() -> None:
    done = _run(_RESTORED)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["7", "True"]


def test_sigterm_then_sigint_is_still_terminated() -> None:
    done = _run(_TERMINATED)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "terminated by SIGTERM"
    assert "Traceback" not in done.stderr
