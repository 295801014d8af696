"""``syngen-improve finish``: make the output folder of a Ray run from its parts."""

from __future__ import annotations

import argparse

from ..run._assemble import PARTS, finish_folder
from ._options import print_summary

NAME = "finish"
HELP = "make the output folder of a Ray run (syngen_improve.ray) from its parts"
DESCRIPTION = (
    f"Read the outcome rows a Ray run wrote to DIR/{PARTS} (JSON lines or Parquet, as Ray's "
    "writers write them) and make DIR the usual output folder: improved, poor, failed and "
    "quarantined rows, the KTO file, the analysis and the report. Each input line is "
    "written once, even when Ray wrote a batch twice after a worker died; finishing again "
    "gives the same folder. Needs no Ray. Exit 0, or 2 when DIR is not a Ray run's folder."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", metavar="DIR", help="the Ray run's output folder")


def run(args: argparse.Namespace) -> int:
    print_summary(finish_folder(args.dir), args.dir)
    return 0
