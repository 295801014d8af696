"""The command line's argument parser: no prefix matching, and an unknown option named
with the option it most likely meant (a mistyped command, with the command it most likely
meant).

argparse would otherwise read ``--output out3`` as ``--output-tpm out3`` (a prefix of one
option) and say nothing; with prefixes off it says "unrecognized arguments" or that
``--out`` is missing, without saying why. Here the message names the unknown option and
the known one closest to it.
"""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Sequence
from typing import Any, NoReturn

__all__ = ["Parser", "suggestion"]


def suggestion(token: str, known: Sequence[str]) -> str | None:
    """The known long options ``token`` most likely meant, at most two, the closest first:
    those it shortens or lengthens (``--output``: ``--output-tpm``, ``--out``) and those
    spelled like it (``--concurency``: ``--concurrency``)."""
    name = token.split("=", 1)[0]
    longs = [k for k in known if k.startswith("--")]
    found = {k for k in longs if k.startswith(name) or name.startswith(k)}
    found.update(difflib.get_close_matches(name, longs, n=2, cutoff=0.6))
    if not found:
        return None
    ranked = sorted(found, key=lambda k: (-difflib.SequenceMatcher(None, name, k).ratio(), k))
    return " or ".join(ranked[:2])


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` with ``allow_abbrev=False`` whose errors name the unknown
    options of the command line with what they most likely meant."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)
        #: The command line being parsed (set by :meth:`parse_known_args`).
        self.argv: list[str] = []

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if args is not None:
            self.argv = list(args)
        return super().parse_known_args(args, namespace)

    @property
    def commands(self) -> dict[str, Parser]:
        """The parsers of this parser's subcommands, by name."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                return dict(action.choices)
        return {}

    def unknown(self, argv: Sequence[str]) -> list[str]:
        """The options in ``argv`` this parser does not know, each with its suggestion."""
        known = list(self._option_string_actions)
        out = []
        for token in argv:
            if token.startswith("--") and token.split("=", 1)[0] not in known:
                guess = suggestion(token, known)
                out.append(f"{token} (did you mean {guess}?)" if guess else token)
        return out

    def error(self, message: str) -> NoReturn:
        commands = self.commands
        word = next((t for t in self.argv if not t.startswith("-")), None)
        if commands and word is not None and word not in commands:
            # A mistyped command: its options mean nothing yet, the command is the error.
            close = difflib.get_close_matches(word, list(commands), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else ""
            super().error(f"unknown command {word!r}{hint}; the commands: {', '.join(commands)}")
        unknown = self.unknown(self.argv)
        if unknown:
            message = f"unknown option {', '.join(unknown)}; {message}"
        super().error(message)
