"""``syngen-improve judge``: rubric scores for every example of a file."""

from __future__ import annotations

import argparse

from ..errors import EXIT_FAILED, EXIT_OK
from ..judge import JudgeResult, judge_dataset
from ._options import (
    JUDGE,
    Renamed,
    add_options,
    config_from_args,
    fake_backend,
    print_json,
)
from ._signals import run_async

NAME = "judge"
HELP = "score each example with the rubric (LLM as judge)"
DESCRIPTION = (
    "Score every example of INPUT on the five rubric dimensions and write it to --out "
    "with quality_scores replaced (and _source_line). Answers are kept in the response "
    "cache, so judging again costs nothing. Exit 0, 1 when some examples could not be "
    "scored, 2 on a usage or input problem."
)
RESUME_HINT = "judging again reuses the cache"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", metavar="INPUT", help="a JSONL file of examples")
    p.add_argument("--out", required=True, metavar="F", help="the scored JSONL file")
    add_options(p, JUDGE)
    p.add_argument("--backend", choices=["anthropic", "fake"], default="anthropic")
    p.add_argument("--cache", action=Renamed, help=argparse.SUPPRESS)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")


def run(args: argparse.Namespace) -> int:
    from ..testing import FakeConfig

    config = config_from_args(args, JUDGE)
    fake = FakeConfig() if args.backend == "fake" else None

    async def job() -> JudgeResult:
        async with fake_backend(
            config.model, fake, concurrency=config.concurrency_for(batch=False)
        ) as backend:
            return await judge_dataset(args.input, args.out, config, backend=backend)

    result = run_async(job)
    if args.json:
        print_json(result.to_dict())
    else:
        means = ", ".join(f"{k} {v}" for k, v in result.means.items())
        print(
            f"judged {result.judged} ({result.cached} from the cache, "
            f"{result.stats['requests']['total']} requests), failed {result.failed}, "
            f"malformed {result.malformed}\nmeans: {means}\nwritten to {args.out}"
        )
    return EXIT_OK if result.failed == 0 else EXIT_FAILED
