"""``syngen-improve improve``: the whole pipeline on a file."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ..errors import EXIT_FAILED, EXIT_OK, EXIT_TEMPFAIL
from ..report import Report
from ..run import improve_dataset
from ._options import (
    add_format_options,
    add_policy_options,
    add_run_options,
    config_from_args,
    fake_backend,
    policy_from_args,
    print_json,
    print_summary,
    run_async,
)

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
    add_run_options(p, concurrency_help="default 16; 10,000 with --backend batch")
    p.add_argument(
        "--backend",
        choices=["anthropic", "sdk", "batch", "openai", "fake"],
        default="anthropic",
        help="anthropic (the Messages API; ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL), sdk (the "
        "same through the official anthropic SDK), batch (Message Batches, half price), "
        "openai (OPENAI_BASE_URL / OPENAI_API_KEY: vLLM, Ollama, LM Studio) or the built-in "
        "fake server",
    )
    p.add_argument(
        "--reask-online",
        action="store_true",
        help="with --backend batch: send re-asks online instead of in follow-up batches",
    )
    p.add_argument("--shard", metavar="I/N", help="take input lines I, I+N, I+2N, ... (1-based)")
    add_format_options(p)
    p.add_argument("--max-tokens", type=int, default=8192, metavar="N", help="default 8192")
    p.add_argument("--limit", type=int, metavar="N", help="stop after N input lines")
    p.add_argument(
        "--resume", action="store_true", help="continue the run whose results are in --out"
    )
    p.add_argument(
        "--accept-changes",
        action="store_true",
        help="with --resume: continue although the model, templates, schemas or policy "
        "differ from the folder's (recorded in the report)",
    )
    p.add_argument(
        "--retry-failed",
        action="store_true",
        help="with --resume: also retry the examples that failed for a content reason "
        "(those the service failed are always retried)",
    )
    p.add_argument(
        "--include-good", action="store_true", help="also put good examples on the desirable side"
    )
    p.add_argument(
        "--dedupe",
        action="store_true",
        help="quarantine input lines whose content repeats an earlier line (counted anyway)",
    )
    p.add_argument(
        "--prompt-gap",
        type=int,
        default=8,
        metavar="W",
        help="in the KTO file, keep rows that share a prompt more than W rows apart "
        "(default 8; at least your per-device batch size minus one)",
    )
    p.add_argument(
        "--no-require-result",
        action="store_true",
        help="accept tool calls without Result: (for datasets whose format has none)",
    )
    p.add_argument(
        "--judge",
        action="store_true",
        help="score each improvement with the rubric (measured quality before/after)",
    )
    p.add_argument("--schemas", metavar="PATH", help="tool schemas (default: the bundled 47)")
    p.add_argument("--templates", metavar="DIR", help="folder of templates overriding ours")
    p.add_argument(
        "--strict-tools",
        choices=("auto", "on", "off"),
        default="auto",
        help="strict tool use for the answers (the API constrains them to the schema): "
        "auto (default) where the model is documented to take it; dropped when the schema "
        "cannot be strict or the API refuses it (report.json: answer_tool)",
    )
    add_policy_options(p)


def improve_file(
    args: argparse.Namespace, *, input_path: str, out: str, fake: FakeConfig | None
) -> int:
    """Run ``improve`` (also for ``demo``): ``fake`` is a FakeConfig to serve, or None."""
    config = config_from_args(
        args,
        max_tokens=args.max_tokens,
        policy=policy_from_args(args),
        resume=args.resume,
        accept_changes=args.accept_changes,
        retry_failed=args.retry_failed,
        limit=args.limit,
        include_good=args.include_good,
        require_result=not args.no_require_result,
        judge=args.judge,
        reask_online=args.reask_online,
        prompt_gap=args.prompt_gap,
        dedupe=args.dedupe,
        dialect=args.dialect,
        context=args.context,
        strict_tools=args.strict_tools,
    ).with_options(templates=args.templates, schemas=args.schemas, shard=args.shard)

    async def job() -> Report:
        async with fake_backend(
            args.model, fake, concurrency=config.concurrency_for(batch=False)
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
        said = report.raw.get("retryable_errors") or {}
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
