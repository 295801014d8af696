"""``syngen-improve report``: rebuild report.md / report.json from an output folder."""

from __future__ import annotations

import argparse

from ..report import write_report
from ._options import print_json, print_summary

NAME = "report"
HELP = "rebuild report.json, report.md and report.html from an improve output folder"
DESCRIPTION = (
    "Rebuild report.json, report.md and report.html from the files of DIR alone. Exit 0, "
    "or 2 when DIR is not an improve output folder."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", metavar="DIR", help="an improve output folder")
    p.add_argument("--json", action="store_true", help="print report.json")


def run(args: argparse.Namespace) -> int:
    report = write_report(args.dir)
    if args.json:
        print_json(report.to_dict())
    else:
        print_summary(report, args.dir)
    return 0
