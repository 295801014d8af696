"""``syngen-improve validate``: check every line against the rules and tool schemas."""

from __future__ import annotations

import argparse
import sys

from ..errors import EXIT_FAILED, EXIT_OK
from ..validate import ToolRegistry, validate_file
from ._options import VALIDATE, add_options, print_json

NAME = "validate"
HELP = "check examples against the grammar, context rules and tool schemas"
DESCRIPTION = (
    "Validate every line of a JSONL file. Exit 0 when all pass, 1 when some fail or a "
    "line is malformed, 2 when the file cannot be read. A label=false example fails only "
    "on structural errors."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="a JSONL file of examples")
    p.add_argument(
        "--strict", action="store_true", help="add the quality standards (strict profile)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument(
        "--show-warnings", action="store_true", help="also list lines that only have warnings"
    )
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="processes to use (default: all CPUs for files over 4 MiB)",
    )
    add_options(p, VALIDATE)


def run(args: argparse.Namespace) -> int:
    schemas = ToolRegistry.load(args.schemas) if args.schemas else None
    report = validate_file(
        args.file,
        profile="strict" if args.strict else "compatible",
        schemas=schemas,
        workers=args.workers,
        dialect=args.dialect,
        context=args.context,
    )
    if args.json:
        print_json(report.to_dict())
    else:
        sys.stdout.write("\n".join(report.format_text(show_warnings=args.show_warnings)) + "\n")
    return EXIT_OK if report.ok else EXIT_FAILED
