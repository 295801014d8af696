"""The finisher: record the run, rebuild the interleaved file, write the report.

It runs after every backend and writer of the run is closed, on a worker thread so the
event loop stays free (a 6,000-row folder takes over a second), and an interrupt cannot
cut it in half: a cancelled caller still waits for the thread to end.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from functools import partial
from typing import Any

import orjson

from .._jsonl import replace_bytes
from .._reviewed import rebuild_kto
from ..interleave import DEFAULT_GAP
from ..outputs import Layout
from ..report import Report, write_report

__all__ = ["finish", "finish_off_loop"]


def finish(layout: Layout, analysis: Mapping[str, Any], run: Mapping[str, Any]) -> Report:
    """Write the analysis, append the run's record, rebuild the interleaved file and the
    report (synchronous)."""
    replace_bytes(layout.analysis, orjson.dumps(analysis, option=orjson.OPT_INDENT_2))
    with layout.runs.open("ab") as fh:
        fh.write(orjson.dumps(run) + b"\n")
    # Alternating, unpaired rows spread in, rows sharing a prompt kept apart; a review's
    # decisions hold across runs.
    rebuild_kto(layout, prompt_gap=int(run.get("prompt_gap", DEFAULT_GAP)))
    return write_report(layout.root)


async def finish_off_loop(
    layout: Layout, analysis: Mapping[str, Any], run: Mapping[str, Any]
) -> Report:
    """:func:`finish` on a worker thread. Cancelling the caller does not stop it: the
    caller waits for the thread, then the cancellation goes on."""
    task = asyncio.ensure_future(asyncio.to_thread(partial(finish, layout, analysis, run)))
    cancelled: asyncio.CancelledError | None = None
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError as exc:
            cancelled = exc  # the folder must be whole before we unwind
    if cancelled is not None:
        raise cancelled
    return task.result()
