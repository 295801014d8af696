"""The ``syngen-improve`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import orjson

from ._resources import sample_path
from ._version import __version__
from .analyze import SeedPolicy, analyze_dataset

__all__ = ["build_parser", "main", "main_exit"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def _add_policy_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--overall-below",
        type=float,
        default=3.0,
        metavar="X",
        help="poor when overall_quality < X (default 3.0)",
    )
    p.add_argument(
        "--memory-at-most",
        type=float,
        default=1.0,
        metavar="Y",
        help="poor when sessionMemory_quality <= Y (default 1)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used to document the CLI)."""
    parser = argparse.ArgumentParser(
        prog="syngen-improve",
        description="Turn a synthetic tool-calling dataset into clean preference data.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "analyze",
        help="profile a dataset: good/poor, dimension means, issues, tools",
        description="Profile a JSONL dataset: totals, good/poor under the relabel policy, "
        "dimension means, issue counts (from the judge's notes and from the examples "
        "themselves), tools, and malformed lines.",
    )
    p.add_argument("input", metavar="INPUT", help="a JSONL file of examples")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    _add_policy_options(p)

    p = sub.add_parser(
        "validate",
        help="check examples against the grammar, context rules and tool schemas",
        description="Validate every line of a JSONL file. Exit 0 when all pass, 1 when some "
        "fail or a line is malformed, 2 when the file cannot be read. A label=false example "
        "fails only on structural errors.",
    )
    p.add_argument("file", metavar="FILE", help="a JSONL file of examples")
    p.add_argument(
        "--schemas",
        metavar="PATH",
        help="tool schemas: the dataset's format, {name: JSON Schema}, an OpenAI or Anthropic "
        "tools list, or an MCP tools/list result (default: the bundled 47 tools)",
    )
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

    p = sub.add_parser(
        "demo",
        help="run the pipeline offline on the bundled sample",
        description="Run offline on the bundled sample data. Until the improve step "
        "lands, this runs `analyze` on the sample.",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    return parser


def _cannot_read(path: str, exc: OSError) -> int:
    """Say which file could not be read, and why; the usage exit code."""
    print(f"syngen-improve: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
    return EXIT_USAGE


def _analyze(path: str, *, as_json: bool, policy: SeedPolicy) -> int:
    try:
        profile = analyze_dataset(path, policy=policy)
    except OSError as exc:
        return _cannot_read(path, exc)
    if as_json:
        sys.stdout.buffer.write(orjson.dumps(profile.to_dict(), option=orjson.OPT_INDENT_2) + b"\n")
    else:
        print(f"{path}\n")
        print(profile.format_table())
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    from .validate import ToolRegistry, validate_file

    try:
        schemas = ToolRegistry.load(args.schemas) if args.schemas else None
    except OSError as exc:
        return _cannot_read(args.schemas, exc)
    except (ValueError, KeyError, TypeError) as exc:
        print(f"syngen-improve: {args.schemas}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        report = validate_file(
            args.file,
            profile="strict" if args.strict else "compatible",
            schemas=schemas,
            workers=args.workers,
        )
    except ValueError as exc:
        print(f"syngen-improve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        return _cannot_read(args.file, exc)
    if args.json:
        sys.stdout.buffer.write(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2) + b"\n")
    else:
        sys.stdout.write("\n".join(report.format_text(show_warnings=args.show_warnings)) + "\n")
    return EXIT_OK if report.ok else EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    if args.command == "analyze":
        try:
            policy = SeedPolicy(
                overall_below=args.overall_below, memory_at_most=args.memory_at_most
            )
        except ValueError as exc:
            print(f"syngen-improve: {exc}", file=sys.stderr)
            return EXIT_USAGE
        return _analyze(args.input, as_json=args.json, policy=policy)
    if args.command == "validate":
        return _validate(args)
    if args.command == "demo":
        if not args.json:
            print("demo: analyzing the bundled sample (the improve step is not built yet)\n")
        return _analyze(str(sample_path()), as_json=args.json, policy=SeedPolicy())
    raise AssertionError(f"unhandled command {args.command!r}")  # pragma: no cover


def main_exit() -> None:
    """Console-script entry point: exit with :func:`main`'s code."""
    sys.exit(main())


if __name__ == "__main__":
    main_exit()
