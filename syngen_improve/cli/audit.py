"""``syngen-improve audit``: can one surface feature tell the labels apart?"""

from __future__ import annotations

import argparse

from ..audit import THRESHOLD, audit_file
from ._options import print_json

NAME = "audit"
HELP = "label-shortcut audit of a labelled file (length, Result:, tool calls, ...)"
DESCRIPTION = (
    "For each cheap surface feature (completion and prompt length, turns, a Result: in the "
    "answer, tool calls, argument keys), how well it alone separates label=true from "
    "label=false rows (ROC AUC). A feature at or above the threshold is a shortcut a model "
    "can learn instead of the quality. Exit 0 when none is, 1 when some are, 2 unreadable."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", metavar="FILE", help="a JSONL file with a bool 'label' per row")
    p.add_argument(
        "--threshold",
        type=float,
        default=THRESHOLD,
        metavar="S",
        help=f"flag a feature whose AUC is >= S or <= 1-S (default {THRESHOLD})",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    audit = audit_file(args.input, threshold=args.threshold)
    if args.json:
        print_json(audit.to_dict())
    else:
        print(f"{args.input}\n")
        print(audit.format_text())
    return 1 if audit.flagged else 0
