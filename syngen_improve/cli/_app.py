"""The command line's frame: the parser with one subcommand per module, and the one
place where errors become exit codes.

Each command module has ``NAME``, ``HELP``, ``DESCRIPTION``, ``add_arguments(parser)``,
``run(args) -> int`` and optionally ``RESUME_HINT`` (said when it is stopped); the parser
dispatches to ``run`` (``set_defaults``). A :class:`~syngen_improve.errors.SyngenError`
exits with its ``exit_code`` and its message (SIGTERM: 143); an ``OSError`` (a file that
cannot be read or written) exits 2 naming the file; Ctrl-C exits 130; anything else is a
bug: its traceback and exit 70.
"""

from __future__ import annotations

import gc
import sys
import traceback
import warnings
from collections.abc import Sequence
from types import ModuleType
from typing import Any, TextIO

from .._fdlimit import is_out_of_files, out_of_files
from .._version import __version__
from ..errors import (
    EXIT_INTERRUPTED,
    EXIT_SOFTWARE,
    EXIT_USAGE,
    SyngenError,
    SyngenWarning,
    Terminated,
)
from . import (
    analyze,
    audit,
    demo,
    estimate,
    export,
    finish,
    interleave,
    judge,
    merge,
    report,
    review,
    validate,
)
from . import improve as improve_command
from ._parser import Parser
from ._signals import hold_signals_after_a_stop

__all__ = ["COMMANDS", "build_parser", "main", "main_exit"]

COMMANDS: tuple[ModuleType, ...] = (
    analyze,
    validate,
    estimate,
    improve_command,
    judge,
    report,
    review,
    merge,
    finish,
    interleave,
    export,
    audit,
    demo,
)


def build_parser() -> Parser:
    """The argument parser (also used to document the CLI)."""
    parser = Parser(
        prog="syngen-improve",
        description="Turn a synthetic tool-calling dataset into clean preference data.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=Parser
    )
    for command in COMMANDS:
        p = sub.add_parser(command.NAME, help=command.HELP, description=command.DESCRIPTION)
        command.add_arguments(p)
        p.set_defaults(handler=command.run, resume_hint=getattr(command, "RESUME_HINT", ""))
    return parser


def _stopped(what: str, hint: str) -> str:
    return f"syngen-improve: {what}; {hint}" if hint else f"syngen-improve: {what}"


def _describe(exc: OSError) -> str:
    if is_out_of_files(exc):  # the file named is just the one that came next
        return str(out_of_files())
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args, extra = parser.parse_known_args(argv)
    if extra:  # named by the command's own parser, which knows its options
        command = parser.commands.get(args.command, parser)
        command.argv = argv
        command.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        code: int = args.handler(args)
    except KeyboardInterrupt:
        print(_stopped("interrupted", args.resume_hint), file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated as exc:
        print(_stopped(str(exc), args.resume_hint), file=sys.stderr)
        return exc.exit_code
    except SyngenError as exc:
        print(f"syngen-improve: {exc.cli_message()}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        print(f"syngen-improve: {_describe(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except Exception:
        traceback.print_exc()
        print(
            "syngen-improve: internal error (a bug in syngen_improve, not in your data or "
            "options); please report it with the traceback above",
            file=sys.stderr,
        )
        return EXIT_SOFTWARE
    return code


def main_exit() -> None:
    """Console-script entry point (and ``python -m syngen_improve``): exit with
    :func:`main`'s code."""
    _tune_gc()
    hold_signals_after_a_stop()
    console_warnings()
    sys.exit(main())


_PLAIN_WARNINGS = (SyngenWarning,)


def console_warnings() -> None:
    """For the console process: the library's own warnings about a run (caching off,
    strict tool use off) as one ``syngen-improve: warning: ...`` line, not Python's
    file:line and source-line form; any other warning as Python shows it."""
    shown = warnings.showwarning

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> Any:
        if issubclass(category, _PLAIN_WARNINGS):
            text = message.cli_message() if isinstance(message, SyngenWarning) else message
            print(f"syngen-improve: warning: {text}", file=file or sys.stderr)
            return None
        return shown(message, category, filename, lineno, file, line)

    warnings.showwarning = show


def _tune_gc() -> None:
    """For a command-line process only (never for a library caller's process): a run
    allocates millions of short-lived dicts, so collect the youngest generation less often
    and leave what the imports built out of every collection (3-4% of a run's CPU)."""
    gc.freeze()
    gc.set_threshold(10_000, 50, 50)
