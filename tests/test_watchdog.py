"""The watchdog itself: it fails a run that waits for nothing, and leaves alone one that
waits for an answer or a timer."""

from __future__ import annotations

import asyncio

from tests.watchdog import Watchdog


async def stalls_for(waiting: asyncio.Future[None], seconds: float, *, idle: float) -> str | None:
    dog = Watchdog(asyncio.get_running_loop(), idle=idle, every=0.05)
    dog.start()
    try:
        await asyncio.wait_for(waiting, seconds)
    except TimeoutError:
        pass
    except asyncio.CancelledError:  # the watchdog's own cancel of a stalled test: expected
        task = asyncio.current_task()
        assert task is not None
        task.uncancel()
    finally:
        dog.stop()
    return dog.stalled


async def test_an_event_nobody_sets_is_a_stall() -> None:
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    # wait_for's own timer is 5 s away, beyond the idle time: nothing to do till then
    said = await stalls_for(never, 5.0, idle=0.3)
    assert said is not None
    assert "nothing in flight and nothing to do" in said


async def test_a_timer_due_soon_is_not_a_stall() -> None:
    soon: asyncio.Future[None] = asyncio.ensure_future(asyncio.sleep(0.5))
    assert await stalls_for(soon, 2.0, idle=1.0) is None


async def test_a_request_in_flight_is_not_a_stall() -> None:
    """A connection waiting for its answer is in flight (it has its own timeout)."""
    done = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await done.wait()  # answers nothing until the test ends
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answer = asyncio.ensure_future(reader.read(1))
    try:
        assert await stalls_for(answer, 1.0, idle=0.3) is None  # type: ignore[arg-type]
    finally:
        done.set()
        answer.cancel()
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
