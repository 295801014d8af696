"""The bounded worker pool and the single-writer tasks.

``run_pool`` takes a concurrency slot *before* it creates a task, so at most
``concurrency`` items are in flight and the reader never runs ahead: memory does
not depend on the input's size. One ``asyncio.TaskGroup`` owns the workers, so an
error or a cancellation stops them all.

``Writer`` is the only owner of one output file: workers ``put`` records into a
bounded queue (a slow disk holds the workers back instead of growing the queue),
and one task appends them, several lines per system call. ``write`` also waits until
its record is in the file, so a worker that holds a concurrency slot until then never
has finished work that a crash could lose. Closing the writer - normally, on error or
on cancellation - writes what was queued, so every record a worker handed over lands
as a whole line.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, TypeVar

from ._jsonl import JsonlWriter
from .errors import WriteFailed

__all__ = ["Writer", "run_pool"]

T = TypeVar("T")
#: A queued record, and the future of the writer waiting for it (``write``), if any.
_Item = tuple[Mapping[str, Any] | bytes, "asyncio.Future[None] | None"]


async def _aiter(items: Iterable[T] | AsyncIterable[T]) -> AsyncIterable[T]:
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item


async def run_pool(
    items: Iterable[T] | AsyncIterable[T],
    handle: Callable[[T], Awaitable[None]],
    *,
    concurrency: int,
) -> int:
    """Run ``handle`` on every item with at most ``concurrency`` at a time; returns
    the number of items started. The first exception a handler raises cancels the
    others and is re-raised as itself (not wrapped in an ``ExceptionGroup``)."""
    if concurrency < 1:
        raise ValueError(f"'concurrency' must be >= 1, got {concurrency}")
    slots = asyncio.Semaphore(concurrency)
    started = 0

    async def one(item: T) -> None:
        try:
            await handle(item)
        finally:
            slots.release()

    error: BaseException | None = None
    try:
        async with asyncio.TaskGroup() as group:
            async for item in _aiter(items):
                await slots.acquire()
                group.create_task(one(item))
                started += 1
    except BaseExceptionGroup as group_error:
        error, *others = group_error.exceptions
        if others:
            error.add_note(f"{len(others)} other worker(s) failed too: {others!r}")
    if error is not None:
        raise error  # outside the handler: its own cause and context, not the group
    return started


class Writer:
    """One output JSONL file, written by one task fed through a bounded queue.

    Use as ``async with Writer(path) as out: await out.put(record)``.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, maxsize: int = 1024, fsync: bool = False
    ) -> None:
        if maxsize < 1:
            raise ValueError(f"'maxsize' must be >= 1, got {maxsize}")
        self.path = path
        self._maxsize = maxsize
        self._fsync = fsync
        self._queue: asyncio.Queue[_Item] | None = None
        self._sink: JsonlWriter | None = None
        self._task: asyncio.Task[None] | None = None
        self._pending: list[_Item] = []
        self._error: BaseException | None = None
        self.count = 0

    async def put(self, record: Mapping[str, Any] | bytes) -> None:
        """Queue one record (or its JSON line, already encoded, without the newline);
        waits while the queue is full."""
        await self._enqueue(record, None)

    async def write(self, record: Mapping[str, Any] | bytes) -> None:
        """Queue one record (or its encoded line) and wait until it is in the file."""
        done = asyncio.get_running_loop().create_future()
        await self._enqueue(record, done)
        await done

    async def _enqueue(
        self, record: Mapping[str, Any] | bytes, done: asyncio.Future[None] | None
    ) -> None:
        if self._queue is None:
            raise RuntimeError("Writer is not open: use 'async with Writer(...)'")
        if self._error is not None:
            raise self._failed() from self._error
        await self._queue.put((record, done))

    async def _write(self, batch: list[Mapping[str, Any] | bytes]) -> None:
        """Append ``batch`` (one system call). Must not await once bytes are written."""
        assert self._sink is not None
        self._sink.write_many(batch)

    def _failed(self) -> WriteFailed:
        return WriteFailed(f"writing {self.path} failed: {self._error}")

    def _settle(self, items: list[_Item], error: BaseException | None) -> None:
        """Tell the writers waiting on ``items`` that they are written (or why not)."""
        for _, done in items:
            if done is not None and not done.done():
                if error is None:
                    done.set_result(None)
                else:
                    done.set_exception(self._failed())

    async def _run(self) -> None:
        queue = self._queue
        assert queue is not None
        while True:
            self._pending = [await queue.get()]
            while not queue.empty():
                self._pending.append(queue.get_nowait())
            if self._error is None:
                try:
                    await self._write([record for record, _ in self._pending])
                    self.count += len(self._pending)
                except Exception as exc:  # reported by the next put() and on close
                    self._error = exc
            self._settle(self._pending, self._error)
            self._pending = []

    def _drain(self) -> None:
        """Write what the task did not get to (synchronously: cannot be interrupted)."""
        assert self._queue is not None
        assert self._sink is not None
        rest = list(self._pending)
        while not self._queue.empty():
            rest.append(self._queue.get_nowait())
        self._pending = []
        if rest and self._error is None:
            self._sink.write_many([record for record, _ in rest])
            self.count += len(rest)
        self._settle(rest, self._error)

    async def __aenter__(self) -> Writer:
        self._sink = JsonlWriter(self.path, fsync=self._fsync)
        self._queue = asyncio.Queue(self._maxsize)
        self._task = asyncio.create_task(self._run(), name=f"writer:{self.path}")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        task = self._task
        assert task is not None
        assert self._sink is not None
        task.cancel()
        try:
            await asyncio.wait({task})
        finally:
            try:
                self._drain()
            finally:
                self._sink.close()
        if self._error is not None and exc is None:
            raise self._failed() from self._error
