"""The one place a backend is opened and engines are built over it.

``llm`` makes the real backends; the fake lives in ``testing``, which builds on ``llm``,
so the one function that knows both is here, above them (the improver and the judge use
it): ``backend="fake"`` in Python is what ``--backend fake`` is on the command line.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import NamedTuple

from .config import ImproveConfig
from .errors import ResponseCacheWarning, UsageError, option
from .llm import Backend, BatchBackend, Budget, CircuitBreaker, Engine, Meters, ResponseCache
from .llm._choose import BackendName, Connection
from .llm._choose import open_backend as open_real_backend
from .llm._responses import default_cache_dir

__all__ = ["Engines", "open_backend", "open_engines"]


def open_backend(
    backend: Backend | BackendName | None, config: ImproveConfig
) -> tuple[Backend, bool]:
    """The backend to use and whether it was made here (then the caller closes it):
    ``"fake"`` is the built-in fake model on a local server
    (:class:`~syngen_improve.testing.FakeBackend`), anything else as in
    :func:`syngen_improve.llm._choose.open_backend` (with the config's model, headers
    and OpenAI cache marks)."""
    if backend == "fake":
        from .testing import FakeBackend  # only when asked: the fake costs start-up time

        return FakeBackend(model=config.model), True
    connection = Connection(config.headers, config.openai_cache_control)
    return open_real_backend(backend, model=config.model, connection=connection)


class Engines(NamedTuple):
    """A run's engine, and the one its re-asks go through (the same one, but for a batch
    run whose re-asks go online). Both share the breaker and the spending cap."""

    main: Engine
    reask: Engine

    @property
    def batch(self) -> bool:
        return self.main.batch


@contextlib.asynccontextmanager
async def open_engines(
    config: ImproveConfig,
    backend: Backend | BackendName | None,
    *,
    state_dir: str | os.PathLike[str] | None = None,
    meters: Meters | None = None,
) -> AsyncIterator[Engines]:
    """The engines of a run over ``backend`` (a backend made here is closed on exit).
    ``state_dir`` is where the batch backend keeps its batch ids; ``meters``: a rate
    limiter and spending cap shared with other processes, instead of the run's own."""
    async with contextlib.AsyncExitStack() as stack:
        made, own = open_backend(backend, config)
        if own:
            stack.push_async_callback(made.aclose)
        batch = isinstance(made, BatchBackend)
        if isinstance(made, BatchBackend) and made.state_dir is None:
            if state_dir is None:
                raise UsageError(
                    "the batch backend keeps its batch ids in a folder: pass "
                    "state_dir= (improve_dataset uses OUT/state/batch)"
                )
            made.attach(Path(state_dir))
        responses = open_responses(config)
        if responses is not None:
            stack.callback(responses.close)
        breaker = CircuitBreaker(config.breaker)
        budget = Budget(config.max_cost) if config.max_cost is not None else None
        if meters is not None and meters.budget is not None:
            budget = meters.budget
        main = Engine(
            made,
            limits=meters.limiter if meters is not None else config.limits,
            retry=config.retry,
            breaker=breaker,
            concurrency=None if batch else config.concurrency_for(batch=False),
            budget=budget,
            pricing=config.price,
            thinking=config.thinking_options,
            responses=responses,
        )
        reask = main
        if config.reask_online and isinstance(made, BatchBackend):
            online = made.online()
            stack.push_async_callback(online.aclose)
            reask = Engine(
                online,
                retry=config.retry,
                breaker=breaker,
                budget=budget,
                pricing=config.price,
                thinking=config.thinking_options,
                responses=responses,
            )
        yield Engines(main, reask)


def open_responses(config: ImproveConfig) -> ResponseCache | None:
    """The run's response cache, open (``None`` with ``cache=False``). A folder given
    that cannot be used is an error naming it; the default folder, a warning (the run
    goes on without keeping answers)."""
    if not config.cache:
        return None
    folder = config.cache_dir or default_cache_dir()
    cache = ResponseCache(folder)
    try:
        return cache.open()
    except (OSError, sqlite3.Error) as exc:
        how = option("--cache-dir DIR or --no-cache", "cache_dir= or cache=False")
        if config.cache_dir is not None:
            raise UsageError(
                f"the response cache {cache.path} cannot be used: {exc} ({how})"
            ) from None
        warnings.warn(
            f"the response cache {cache.path} cannot be used ({exc}): answers are not kept "
            f"for later runs ({how})",
            ResponseCacheWarning,
            stacklevel=2,
        )
        return None
