"""Options shared by several commands, and their translation into an ImproveConfig."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from .._fdlimit import ensure_open_files
from ..analyze import SeedPolicy
from ..config import ImproveConfig
from ..dialects import DIALECTS
from ..errors import Terminated
from ..llm import DEFAULT_MODEL, BreakerPolicy, RateLimits, RetryPolicy
from ..llm._models import EFFORTS
from ..llm._pricing import Pricing, cost_text

if TYPE_CHECKING:
    from ..llm import Backend
    from ..report import Report
    from ..testing import FakeConfig

__all__ = [
    "add_format_options",
    "add_policy_options",
    "add_run_options",
    "config_from_args",
    "fake_backend",
    "hold_signals_after_a_stop",
    "policy_from_args",
    "print_json",
    "print_summary",
    "run_async",
]

T = TypeVar("T")


def add_format_options(p: argparse.ArgumentParser) -> None:
    """--dialect and --context: how the input is read."""
    p.add_argument(
        "--dialect",
        choices=DIALECTS,
        help="the input's dialect (default: decided by its first row): text "
        "(tool_call:/arguments:/Result:), openai (messages, tool_calls), "
        "sharegpt (from/value) or hermes (<tool_call> tags)",
    )
    p.add_argument(
        "--context",
        default="auto",
        metavar="C",
        help="the context convention of the tool calls: auto (default: decided by "
        "the first 200 rows), context7 (the seven-field context object), "
        "none, or a .toml/.json file describing your own",
    )


def add_policy_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--overall-below",
        type=float,
        default=3.0,
        metavar="X",
        help="poor when overall_quality < X (default 3.0)",
    )
    p.add_argument(
        "--memory-at-most",
        type=float,
        default=1.0,
        metavar="Y",
        help="poor when sessionMemory_quality <= Y (default 1)",
    )


def policy_from_args(args: argparse.Namespace) -> SeedPolicy:
    return SeedPolicy(overall_below=args.overall_below, memory_at_most=args.memory_at_most)


def add_run_options(p: argparse.ArgumentParser, *, concurrency_help: str) -> None:
    """Model, concurrency, limits, answers and progress: what improve and judge share."""
    p.add_argument("--model", default=DEFAULT_MODEL, help="model id (default %(default)s)")
    p.add_argument("--concurrency", type=int, metavar="N", help=concurrency_help)
    p.add_argument("--rpm", type=float, metavar="R", help="requests per minute")
    p.add_argument("--tpm", type=float, metavar="T", help="input tokens per minute")
    p.add_argument("--output-tpm", type=float, metavar="T", help="output tokens per minute")
    p.add_argument(
        "--answers",
        "--max-attempts",
        dest="answers",
        type=int,
        default=3,
        metavar="K",
        help="answers per example: the first plus re-asks (default 3)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        metavar="S",
        help="seconds one request may take before it is retried (default: adapted to the "
        f"latencies seen, 4x their 99th percentile, {RetryPolicy().min_timeout:g} to "
        f"{RetryPolicy().max_timeout:g} s)",
    )
    p.add_argument(
        "--patience",
        type=float,
        default=BreakerPolicy().patience,
        metavar="S",
        help="seconds to wait out a service that fails every request before stopping "
        "(exit 75, resumable; default %(default)g)",
    )
    p.add_argument(
        "--max-cost",
        type=float,
        metavar="USD",
        help="a spending cap for this run: a request that could take its cost past it is "
        "not sent and the run stops (exit 75, resumable; see estimate for a forecast)",
    )
    add_model_options(p)
    p.add_argument(
        "--no-progress", action="store_true", help="no live panel (also off with --json)"
    )


def add_model_options(p: argparse.ArgumentParser) -> None:
    """Thinking, effort and price: what improve, judge and estimate share."""
    p.add_argument(
        "--effort",
        choices=EFFORTS,
        help="the model's effort (output_config.effort; default: the model's own, not sent)",
    )
    p.add_argument(
        "--thinking",
        choices=("auto", "on", "off"),
        default="auto",
        help="thinking: auto (default: off wherever the model can turn it off, which costs "
        "least), on, or off",
    )
    p.add_argument(
        "--price",
        metavar="IN,OUT",
        help="USD per million input and output tokens, for a model whose price is not known "
        "(or to override the table's)",
    )


def model_options(args: argparse.Namespace) -> dict[str, Any]:
    """The config fields of :func:`add_model_options`."""
    return {
        "effort": args.effort,
        "thinking": args.thinking,
        "price": None if args.price is None else Pricing.parse(args.price),
    }


def config_from_args(args: argparse.Namespace, **fields: Any) -> ImproveConfig:
    """The run's config from the shared options, plus ``fields``."""
    return ImproveConfig(
        model=args.model,
        concurrency=args.concurrency,
        limits=RateLimits(rpm=args.rpm, input_tpm=args.tpm, output_tpm=args.output_tpm),
        retry=RetryPolicy(timeout=args.timeout),
        breaker=BreakerPolicy(patience=args.patience),
        answers=args.answers,
        max_cost=args.max_cost,
        **model_options(args),
        # --json is for machines: no bar on stderr beside the JSON on stdout
        progress=not args.no_progress and not getattr(args, "json", False),
        **fields,
    )


#: Set by the console entry point (never for a caller of :func:`main` in its own process):
#: once a signal has stopped a run, further stop signals are held until the process exits.
_HOLD_AFTER_STOP = False


def hold_signals_after_a_stop() -> None:
    """For the console process only: after Ctrl-C or SIGTERM stopped a run, the process is
    on its way out (report written, message printed, exit code set); another stop signal
    then would only interrupt that with a traceback, so it is held instead."""
    global _HOLD_AFTER_STOP
    _HOLD_AFTER_STOP = True


def run_async(job: Callable[[], Awaitable[T]]) -> T:
    """Run an async command to its end. The first Ctrl-C or SIGTERM cancels it (its cleanup
    and report run) and surfaces as ``KeyboardInterrupt`` or
    :class:`~syngen_improve.errors.Terminated`; a further one while it finishes is only
    acknowledged, so the report and the run record are never cut short."""
    stopped_by: list[signal.Signals] = []

    async def main() -> T:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()

        def on_signal(signum: signal.Signals) -> None:
            if stopped_by:
                print("syngen-improve: still writing the report; one moment", file=sys.stderr)
                return
            stopped_by.append(signum)
            task.cancel()

        # Signal handlers can only be set from the main thread (a tool may call main()
        # from another): there the signals keep their defaults.
        handled = threading.current_thread() is threading.main_thread()
        if handled:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, on_signal, signum)
        try:
            return await job()
        finally:
            if handled:
                if stopped_by and _HOLD_AFTER_STOP:  # before the handlers go: no gap
                    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
                for signum in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(signum)

    try:
        return asyncio.run(main())
    except asyncio.CancelledError:
        if stopped_by == [signal.SIGTERM]:
            raise Terminated("terminated by SIGTERM") from None
        if stopped_by:
            raise KeyboardInterrupt from None
        raise


@contextlib.asynccontextmanager
async def fake_backend(
    model: str, fake: FakeConfig | None, *, concurrency: int
) -> AsyncIterator[Backend | None]:
    """A backend on the built-in fake server (real HTTP on 127.0.0.1), or ``None``. The
    server is in this process: each request in flight holds both ends of a socket."""
    if fake is None:
        yield None
        return
    ensure_open_files(2 * concurrency)
    from ..testing import FakeBackend

    async with FakeBackend(fake, model=model) as backend:
        yield backend


def print_json(data: Any) -> None:
    sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")


def print_summary(report: Report, out: str) -> None:
    c = report.counts
    print(
        f"{c.input} input lines: {c.poor} poor, {c.good} good, "
        f"{c.malformed} malformed (quarantined)\n"
        f"improved {c.improved}, failed {c.failed}; interleaved {c.interleaved} lines\n"
        f"requests {report.requests.total} (retried {report.requests.retried}), "
        f"cost {cost_text(report.cost_usd)}\n"
        f"outputs in {Path(out)}/ (open report.html in a browser; report.md, report.json)"
    )
    for warning in report.get("warnings") or []:
        print(f"warning: {warning}", file=sys.stderr)
