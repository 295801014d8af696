"""``syngen-improve export``: training formats that load in HF ``datasets``."""

from __future__ import annotations

import argparse

from ..export import export_file

NAME = "export"
HELP = "convert examples to a training format that loads in HF datasets"
DESCRIPTION = (
    "Write FILE as chatml, kto, kto-conversational or sft rows. Exit 0, or 2 on a usage "
    "or input problem (the line is named)."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="a JSONL file of examples with bool labels")
    p.add_argument(
        "--format",
        required=True,
        choices=["chatml", "kto", "kto-conversational", "sft"],
        dest="fmt",
        help="the training format",
    )
    p.add_argument("--out", required=True, metavar="F", help="the output JSONL file")
    p.add_argument(
        "--tools",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="add a 'tools' column with the definitions of the tools each row calls (default: "
        "when the rows carry their own tools); --no-tools leaves it out",
    )
    p.add_argument(
        "--tools-format",
        choices=["openai", "anthropic"],
        default="openai",
        help="the form of the tool definitions (default: openai function definitions)",
    )
    p.add_argument(
        "--calls",
        choices=["text", "tool_calls"],
        help="in kto-conversational and sft: tool calls as text in the content, or native "
        "tool_calls with tool messages (default: the input's own; text for the text grammar)",
    )
    p.add_argument(
        "--eval-fraction",
        type=float,
        default=0.0,
        metavar="P",
        help="send about this share of rows to --eval-out, grouped by source: an improvement "
        "and its original always land on the same side",
    )
    p.add_argument("--eval-out", metavar="F", help="the eval JSONL file (with --eval-fraction)")
    p.add_argument("--split-seed", type=int, default=0, metavar="N", help="seed of the split")


def run(args: argparse.Namespace) -> int:
    stats = export_file(
        args.file,
        args.out,
        fmt=args.fmt,
        tools=args.tools,
        tools_format=args.tools_format,
        calls=args.calls,
        eval_fraction=args.eval_fraction,
        eval_out=args.eval_out,
        split_seed=args.split_seed,
    )
    print(
        f"wrote {stats.written - stats.eval} {args.fmt} rows to {args.out} "
        f"({stats.read} read, {stats.skipped} skipped)"
        + (f"; {stats.eval} rows to {args.eval_out}" if args.eval_fraction else "")
        + (
            f"; as JSON text (their rows disagree on a type): {', '.join(stats.json_columns)}"
            if stats.json_columns
            else ""
        )
    )
    return 0
