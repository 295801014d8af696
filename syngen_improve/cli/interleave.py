"""``syngen-improve interleave``: a label-balanced KTO file from two files."""

from __future__ import annotations

import argparse

from .._decisions import review_of, reviewed_file
from ..interleave import interleave_files, verify_interleaving
from ._options import Renamed, add_options, add_review, config_from_args, print_json, review_arg

NAME = "interleave"
HELP = "merge desirable and undesirable files into a label-balanced KTO file"
DESCRIPTION = (
    "Stream DESIRABLE and UNDESIRABLE into True, False, True, ... with the surplus placed "
    "by --policy, then print what a trainer reading the file in order sees. Exit 0, or 2 "
    "on a usage or input problem."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--desirable", required=True, metavar="F", help="label=true examples")
    p.add_argument("--undesirable", required=True, metavar="F", help="label=false examples")
    p.add_argument("--out", required=True, metavar="F", help="the interleaved JSONL file")
    p.add_argument(
        "--policy",
        choices=["kto", "spread", "truncate", "oversample", "tail"],
        default="spread",
        help="where the surplus of the longer side goes (default spread; kto: what improve "
        "writes, rows sharing a prompt kept --prompt-gap rows apart)",
    )
    add_options(p, ("prompt_gap",))  # with --policy kto, and for the check
    p.add_argument(
        "--pairs", action="store_true", help="each example right before its own original"
    )
    p.add_argument("--shuffle-seed", type=int, metavar="N", help="shuffle first (bounded buffer)")
    p.add_argument(
        "--batch-size", type=int, default=8, metavar="B", help="trainer batch size (default 8)"
    )
    p.add_argument("--json", action="store_true", help="print the verification as JSON")
    p.add_argument("--gap", action=Renamed, help=argparse.SUPPRESS)
    add_review(p)  # applied to the desirable side


def run(args: argparse.Namespace) -> int:
    gap = config_from_args(args, ("prompt_gap",)).prompt_gap
    review = review_of(args.desirable, review_arg(args))
    with reviewed_file(args.desirable, review) as desirable:
        stats = interleave_files(
            desirable,
            args.undesirable,
            args.out,
            policy=args.policy,
            pairs=args.pairs,
            shuffle_seed=args.shuffle_seed,
            prompt_gap=gap,
        )
    report = verify_interleaving(args.out, batch_size=args.batch_size, prompt_gap=gap)
    if args.json:
        print_json({"interleave": stats.to_dict(), "verify": report.to_dict()})
    else:
        print(
            f"wrote {stats.written} rows ({stats.desirable} desirable, {stats.undesirable} "
            f"undesirable; {stats.pairs} pairs, {stats.dropped} dropped, "
            f"{stats.repeated} repeated) to {args.out}"
        )
        print(report.format_text())
    return 0
