"""``syngen-improve improve``: the whole pipeline on a file."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ..errors import EXIT_FAILED, EXIT_OK, EXIT_TEMPFAIL
from ..report import Report
from ..run import improve_dataset
from ._options import (
    IMPROVE,
    Renamed,
    add_options,
    config_from_args,
    fake_backend,
    print_json,
    print_summary,
)
from ._signals import run_async

if TYPE_CHECKING:
    from ..testing import FakeConfig

NAME = "improve"
HELP = "improve the poor examples with an LLM (the whole pipeline)"
DESCRIPTION = (
    "Analyze INPUT, improve its poor examples with the model under the acceptance gate, "
    "and write the output folder (improved, poor, interleaved, failed, quarantine, "
    "report). Exit 0 when every poor example was improved, 1 when some failed, 75 when some "
    "got no answer from the service (rerun with --resume), 2 on a "
    "usage or input problem, 70 on an internal error, 130 when interrupted or 143 when "
    "terminated (rerun with --resume)."
)
RESUME_HINT = (
    "outputs so far are in the --out folder. Run the same command with --resume to continue."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", metavar="INPUT", help="a JSONL file of scored examples")
    p.add_argument("--out", required=True, metavar="DIR", help="the output folder")
    p.add_argument(
        "--backend",
        choices=["anthropic", "sdk", "batch", "openai", "fake"],
        default="anthropic",
        help="anthropic (the Messages API; ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL), sdk (the "
        "same through the official anthropic SDK), batch (Message Batches, half price), "
        "openai (OPENAI_BASE_URL / OPENAI_API_KEY: vLLM, Ollama, LM Studio) or the built-in "
        "fake server",
    )
    add_options(p, IMPROVE)
    p.add_argument("--max-attempts", action=Renamed, help=argparse.SUPPRESS)


def improve_file(
    args: argparse.Namespace, *, input_path: str, out: str, fake: FakeConfig | None
) -> int:
    """Run ``improve`` (also for ``demo``): ``fake`` is a FakeConfig to serve, or None."""
    config = config_from_args(args, IMPROVE)

    async def job() -> Report:
        async with fake_backend(
            config.model, fake, concurrency=config.concurrency_for(batch=False)
        ) as backend:
            # Without --backend fake, improve_dataset makes the backend after its checks.
            name = None if args.backend == "fake" else args.backend
            result = await improve_dataset(input_path, out, config, backend=backend or name)
        return result.report

    report = run_async(job)
    if getattr(args, "json", False):
        print_json(report.to_dict())
    else:
        print_summary(report, out)
    if report.counts.retryable:
        said = report.retryable_errors
        last = "; ".join(f"{text} (x{n})" for text, n in said.items() if text)
        print(
            f"syngen-improve: {report.counts.retryable} example(s) got no answer from the "
            f"service after the retries (the service said: {last or 'nothing'}): fix what "
            "it says, or wait for it, and run the same command with --resume to retry them",
            file=sys.stderr,
        )
        return EXIT_TEMPFAIL
    return EXIT_OK if report.counts.failed == 0 else EXIT_FAILED


def run(args: argparse.Namespace) -> int:
    fake = None
    if args.backend == "fake":  # the testing package costs start-up time: only when used
        from ..testing import FakeConfig

        fake = FakeConfig()
    return improve_file(args, input_path=args.input, out=args.out, fake=fake)
