"""``improve_dataset``: the whole run, as stages.

source (read and route every line) -> improver (engine + prompt + gate + re-asks) ->
sinks (one writer per output file) -> finisher (run record, interleave, report).
Every resource is entered in one ``AsyncExitStack`` and closed before the finisher
runs; the finisher runs whether the run completed, failed or was interrupted, so the
folder always has a report saying which.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from contextlib import AsyncExitStack, ExitStack
from pathlib import Path
from typing import Any

from .._fdlimit import ensure_open_files
from .._input import check_input
from .._lock import FolderLock
from .._pool import run_pool
from .._preflight import preflight
from .._progress import Progress
from .._sync import run_sync
from ..config import ImproveConfig
from ..errors import OutputExists, UsageError, option
from ..improve import Improver
from ..improve._improver import READS
from ..llm import Backend, fresh_answers
from ..llm._choose import BackendName, check_backend
from ..outputs import Layout, Prior, estimate_lines, settle_failures
from ._finish import finish_off_loop
from ._manifest import InputLines, check_settings, settings_of
from ._result import ImproveResult
from ._sinks import Sinks
from ._source import Source, Work

__all__ = ["improve_dataset", "improve_dataset_sync"]


def _check_paths(
    input: str | os.PathLike[str], output_dir: str | os.PathLike[str], config: ImproveConfig
) -> tuple[Path, Layout]:
    source = Path(input)
    check_input(source)
    layout = Layout(Path(output_dir))
    if layout.root.exists() and not layout.root.is_dir():
        raise OutputExists(f"the output folder {layout.root} is a file: choose a folder")
    if layout.owns(source):
        raise UsageError(
            f"the input {source} is one of the run's own files in {layout.root}: "
            "copy it elsewhere, or write to another folder"
        )
    _check_fresh(layout, config)
    return source, layout


def _check_fresh(layout: Layout, config: ImproveConfig, *, locked: bool = False) -> None:
    """Refuse a folder that holds results unless resuming; a folder whose run ended before
    any example did (its first request refused: a bad key, an unknown model) is started
    afresh by the same command (``locked``: its leftovers are cleared, under the lock)."""
    if config.resume or not layout.has_results():
        return
    if layout.has_outcomes():
        raise OutputExists(
            f"{layout.root} holds results of an earlier run: resume it "
            f"({option('--resume', 'resume=True')}) or choose an empty folder"
        )
    if locked:
        layout.clear_leftovers()


async def improve_dataset(
    input: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    config: ImproveConfig | None = None,
    *,
    backend: Backend | BackendName | None = None,
    **options: Any,
) -> ImproveResult:
    """Improve the poor examples of ``input`` into ``output_dir`` (see docs/improve.md).

    ``config`` is an :class:`~syngen_improve.ImproveConfig`; ``options`` change any of its
    fields for this call (``concurrency=32``, ``answers=4``, ``rpm=4000``, ...).
    ``backend`` is a backend instance (yours, or ``syngen_improve.testing``'s) or the
    name of one to make from the environment: ``"anthropic"`` (default; the Messages API
    without the SDK), ``"sdk"`` (the same through the anthropic SDK), ``"batch"``
    (Message Batches, half price, state under ``output_dir/state/batch``), ``"openai"``,
    ``"fake"`` (the built-in fake model on a local server: offline, free, deterministic).
    Without ``resume=True`` a folder that holds results is refused.
    """
    cfg = ImproveConfig.of(config, **options)
    check_backend(backend)
    source_path, layout = _check_paths(input, output_dir, cfg)
    cfg = preflight(source_path, cfg)
    source = Source(source_path, cfg, spill=layout.state)
    # The bar starts from an estimate (the size over the first MiB's lines) and the source
    # refines it as it reads: a big input is not read once just to count its lines.
    total = estimate_lines(source_path)
    if cfg.shard is not None:
        total = -(-total // cfg.shard[1])
    improver = Improver(
        cfg.keep(READS),
        backend=backend,
        state_dir=layout.batch_state,
    )
    started = time.monotonic()
    run_id = uuid.uuid4().hex[:12]
    opened = False
    accepted: list[str] = []

    # The folder's lock is held until the finisher is done, past the run's own stack.
    held = ExitStack()

    async def run() -> None:
        nonlocal opened
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(improver)
            if not improver.batch:
                ensure_open_files(cfg.concurrency_for(batch=False))
            held.enter_context(FolderLock(layout.lock, folder=layout.root))
            # Again, now that no other run can write the folder.
            _check_fresh(layout, cfg, locked=True)
            settings = settings_of(cfg, improver.model)
            accepted.extend(
                check_settings(
                    layout, settings, resume=cfg.resume, accept_changes=cfg.accept_changes
                )
            )
            refused, fresh = (
                settle_failures(layout, retry_failed=cfg.retry_failed)
                if cfg.resume
                else (set(), set())
            )
            prior = Prior.scan(layout) if cfg.resume else Prior()
            lines = stack.enter_context(InputLines(layout, source_path, resume=cfg.resume))
            opened = True  # from here on the run is recorded, whatever happens
            provenance = {
                "run": run_id,
                "model": improver.model,
                "templates": settings["templates"],
                "schemas": settings["schemas"],
            }
            sinks = await stack.enter_async_context(
                Sinks(
                    layout,
                    provenance,
                    refused_before=refused,
                    prompt_gap=cfg.prompt_gap,
                )
            )
            bar = stack.enter_context(
                Progress(
                    total=min(total, cfg.limit) if cfg.limit else total,
                    stats=improver.engine.stats,
                    enabled=cfg.progress,
                )
            )

            async def handle(work: Work) -> None:
                with fresh_answers(work.line in fresh):  # a failure retried is asked afresh
                    outcome = await improver.improve(
                        work.example, issues=work.issues, key=work.line
                    )
                await sinks.outcome(outcome, work.key, work.row)
                bar.advance(outcome.status)

            await run_pool(
                source.work(sinks, bar, prior, lines),
                handle,
                concurrency=cfg.examples_in_flight(batch=improver.batch),
            )

    def record(*, complete: bool, interrupted: bool) -> dict[str, Any]:
        return {
            "run": run_id,
            **improver.stats.to_dict(),
            "model": improver.model,
            "prompt_gap": cfg.prompt_gap,
            **improver.request_facts(),
            **({"answer_tool": improver.answer_tool.to_dict()} if improver.answer_tool else {}),
            "elapsed_s": round(time.monotonic() - started, 3),
            **({"accepted_changes": accepted} if accepted else {}),
            "interrupted": interrupted or not complete,
        }

    with held:
        try:
            await run()
        except BaseException as exc:
            if not opened:  # no backend, or the folder is another run's: nothing to record
                raise
            interrupted = isinstance(exc, asyncio.CancelledError | KeyboardInterrupt)
            try:
                await finish_off_loop(
                    layout,
                    source.analysis(complete=False),
                    record(complete=False, interrupted=interrupted),
                )
            except Exception as late:  # the original error is the one to see
                exc.add_note(f"writing the report after this error also failed: {late!r}")
            raise
        report = await finish_off_loop(
            layout, source.analysis(complete=True), record(complete=True, interrupted=False)
        )
    return ImproveResult(layout.root, report)


def improve_dataset_sync(
    input: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    config: ImproveConfig | None = None,
    *,
    backend: Backend | BackendName | None = None,
    **options: Any,
) -> ImproveResult:
    """:func:`improve_dataset` for scripts; inside a running event loop (Jupyter) it runs
    on a helper thread, and Ctrl-C still stops it within a second (the report then says
    interrupted)."""
    return run_sync(
        lambda: improve_dataset(input, output_dir, config, backend=backend, **options),
        name="improve_dataset",
    )
