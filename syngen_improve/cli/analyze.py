"""``syngen-improve analyze``: profile a dataset."""

from __future__ import annotations

import argparse

from ..analyze import analyze_dataset
from ._options import ANALYZE, add_options, config_from_args, print_json

NAME = "analyze"
HELP = "profile a dataset: good/poor, dimension means, issues, tools"
DESCRIPTION = (
    "Profile a JSONL dataset: totals, good/poor under the relabel policy, dimension "
    "means, issue counts (from the judge's notes and from the examples themselves), "
    "tools, and malformed lines."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", metavar="INPUT", help="a JSONL file of examples")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    add_options(p, ANALYZE)


def run(args: argparse.Namespace) -> int:
    cfg = config_from_args(args, ANALYZE)
    profile = analyze_dataset(
        args.input, policy=cfg.policy, dialect=cfg.dialect, context=cfg.context
    )
    if args.json:
        print_json(profile.to_dict())
    else:
        print(f"{args.input}\n")
        print(profile.format_table())
    return 0
