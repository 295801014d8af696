"""``syngen-improve estimate``: what an improve run of a file would cost, before it costs."""

from __future__ import annotations

import argparse
import os

from ..estimate import estimate_cost
from ._options import ESTIMATE, add_options, config_from_args, print_json
from ._signals import run_async

NAME = "estimate"
HELP = "predict an improve run's requests, tokens and cost (no Messages request)"
DESCRIPTION = (
    "Read INPUT as improve would, build the first request of every poor example, and print "
    "the expected requests, tokens (input, cache reads, output) and cost online and with "
    "Message Batches. With ANTHROPIC_API_KEY set, a sample of the requests is counted by the "
    "API's free count_tokens endpoint; no Messages request is sent. Exit 0, or 2 on a usage "
    "or input problem."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", metavar="INPUT", help="a JSONL file of examples")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--reask-share",
        type=float,
        default=0.1,
        metavar="P",
        help="the share of examples expected to need a re-ask (default 0.1)",
    )
    p.add_argument(
        "--count-tokens",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="count a sample with the API (default: when ANTHROPIC_API_KEY is set)",
    )
    add_options(p, ESTIMATE)


def run(args: argparse.Namespace) -> int:
    count = (
        args.count_tokens
        if args.count_tokens is not None
        else bool(os.environ.get("ANTHROPIC_API_KEY"))
    )
    config = config_from_args(args, ESTIMATE)

    async def job() -> dict[str, object]:
        if not count:
            return (await estimate_cost(args.input, config, reask_share=args.reask_share)).to_dict()
        from ..llm import DirectBackend

        headers = dict(config.headers)
        async with DirectBackend(model=config.model, default_headers=headers) as counter:
            found = await estimate_cost(
                args.input, config, counter=counter, reask_share=args.reask_share
            )
        return found.to_dict()

    result = run_async(job)
    if args.json:
        print_json(result)
    else:
        cost = result["cost_usd"]
        print(
            f"{result['examples']} poor examples, about {result['requests']} requests "
            f"with {result['model']}"
        )
        print(
            f"tokens: {result['input_tokens']:,} input, {result['cache_read_tokens']:,} "
            f"cache read, {result['cache_write_tokens']:,} cache write, "
            f"{result['output_tokens']:,} output"
            + (" (input counted by the API on a sample)" if result["counted_by_api"] else "")
        )
        thinking = result["thinking_tokens_per_request"]
        shape = result["thinking"]
        if thinking and isinstance(shape, dict):
            print(
                f"thinking: assumed {thinking:,} thinking tokens a request (effort "
                f"{shape.get('effort')}), billed as output; report.json's "
                "thinking.measured_thinking_tokens gives the run's own figure"
            )
        print(
            "cost: unknown (no price for this model; --price IN,OUT gives one)"
            if cost is None
            else f"cost: ${cost:.2f} online, ${result['batch_cost_usd']:.2f} with Message Batches"
        )
    return 0
