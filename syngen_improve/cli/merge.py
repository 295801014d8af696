"""``syngen-improve merge``: join the output folders of a sharded run."""

from __future__ import annotations

import argparse

from ..merge import merge_outputs
from ._options import print_summary

NAME = "merge"
HELP = "join the output folders of a sharded run into one"
DESCRIPTION = (
    "Join improve output folders made with --shard into OUT: outputs, interleaving and "
    "one report with a section per shard. Refuses folders that share an input line. "
    "Exit 0, or 2 on a usage problem or an overlap."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dirs", nargs="+", metavar="DIR", help="shard output folders")
    p.add_argument("--out", required=True, metavar="DIR", help="the merged output folder")


def run(args: argparse.Namespace) -> int:
    print_summary(merge_outputs(args.dirs, args.out), args.out)
    return 0
