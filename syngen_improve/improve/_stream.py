"""Many examples through one :class:`~._improver.Improver`: outcomes as they complete,
with a bounded number in progress and waiting."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterable, Mapping
from typing import Any, Protocol

from .._pool import run_pool
from ..errors import UsageError
from ._outcome import Outcome

__all__ = ["check_example", "outcomes_of"]


class _Improves(Protocol):
    """What a stream needs of the Improver."""

    def is_poor(self, example: Mapping[str, Any]) -> bool: ...

    async def improve(self, example: Mapping[str, Any], *, key: int = 0) -> Outcome: ...


async def outcomes_of(
    improver: _Improves,
    examples: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
    limit: int,
) -> AsyncGenerator[Outcome, None]:
    """See :meth:`Improver.stream` (``limit``: examples in progress at once)."""
    ready: asyncio.Queue[Outcome] = asyncio.Queue(limit)

    async def numbered() -> AsyncIterator[tuple[int, Mapping[str, Any]]]:
        index = 0
        if isinstance(examples, AsyncIterable):
            async for example in examples:
                yield index, example
                index += 1
        else:
            for example in examples:
                yield index, example
                index += 1

    async def one(item: tuple[int, Mapping[str, Any]]) -> None:
        index, example = item
        check_example(example, f"example {index}")
        if improver.is_poor(example):
            outcome = await improver.improve(example, key=index)
        else:
            outcome = Outcome(index, "good", example)
        await ready.put(outcome)

    producer = asyncio.create_task(run_pool(numbered(), one, concurrency=limit))
    getter: asyncio.Future[Outcome] | None = None
    try:
        while True:
            getter = asyncio.ensure_future(ready.get())
            await asyncio.wait({getter, producer}, return_when=asyncio.FIRST_COMPLETED)
            if getter.done():
                yield getter.result()
                continue
            getter.cancel()
            while not ready.empty():
                yield ready.get_nowait()
            producer.result()  # re-raises the first error of a worker
            return
    finally:
        if getter is not None:
            getter.cancel()
        if not producer.done():
            producer.cancel()
            await asyncio.wait({producer})


def check_example(example: object, name: str) -> None:
    """:class:`UsageError` unless ``example`` is a dict (a mapping) of one example."""
    if not isinstance(example, Mapping):
        raise UsageError(f"{name} is a {type(example).__name__}, not a dict of one example")
