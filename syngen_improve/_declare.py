"""An option declared once: its field's metadata says its command-line flag, help text,
consumer and range check, and everything else (argparse, validation, the docs' parity
test) is made from it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from .errors import UsageError, option

__all__ = [
    "Declared",
    "Group",
    "checked",
    "declared",
    "in_range",
    "instance_of",
    "one_of",
    "opt",
    "yes_no",
]

#: Who reads an option: what a request says (``request``; the Improver and the judge),
#: how requests are sent (``client``), which input lines become work (``input``: the
#: router), and what only a run over a folder reads (``run``).
Group = Literal["request", "client", "input", "run"]
Check = Callable[[str, Any], None]


@dataclass(frozen=True)
class Declared:
    """An option beyond its field: ``flag`` on the command line (``None``: Python only),
    ``help``, its ``group``, its ``check`` (raises :class:`UsageError` naming the option),
    and for argparse its ``metavar``, ``choices`` and ``kind`` (``bool``: a switch;
    ``negated``: a switch that turns the option off; ``repeat``: given once per value)."""

    group: Group
    help: str
    check: Check
    flag: str | None = None
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    kind: type = str
    negated: bool = False
    repeat: bool = False


def opt(default: Any, group: Group, help: str, check: Check, **more: Any) -> Any:
    """A dataclass field declared with its option (``factory``: a default factory)."""
    factory = more.pop("factory", None)
    meta = {"declared": Declared(group, help, check, **more)}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def declared(cls: type) -> dict[str, Declared]:
    """The declared options of a dataclass, by field name."""
    return {
        f.name: f.metadata["declared"] for f in dataclasses.fields(cls) if "declared" in f.metadata
    }


def checked(obj: Any) -> None:
    """Run every declared field's check on ``obj`` (its message names the option as the
    caller spells it: ``concurrency`` in Python, ``--concurrency`` on the command line)."""
    for name, how in declared(type(obj)).items():
        how.check(option(how.flag, name) if how.flag else name, getattr(obj, name))


def _number(value: object, whole: bool) -> bool:
    kinds = int if whole else int | float
    return isinstance(value, kinds) and not isinstance(value, bool)


def in_range(
    low: float,
    high: float | None = None,
    *,
    whole: bool = False,
    optional: bool = False,
    above: bool = False,
) -> Check:
    """A number from ``low`` (exclusive with ``above``) up to ``high``; ``whole``: an
    integer; ``optional``: ``None`` allowed."""
    kind = "a whole number" if whole else "a number"
    bound = f"> {low:g}" if above else f">= {low:g}"
    said = f"{kind} {bound}" + (f" and <= {high:g}" if high is not None else "")

    def check(name: str, value: Any) -> None:
        if value is None and optional:
            return
        ok = _number(value, whole) and (value > low if above else value >= low)
        if not ok or (high is not None and value > high):
            raise UsageError(f"{name!r} must be {said}, got {value!r}")

    return check


def one_of(*values: object, optional: bool = False) -> Check:
    def check(name: str, value: Any) -> None:
        if (value is None and optional) or value in values:
            return
        listed = ", ".join(repr(v) for v in values)
        raise UsageError(f"{name!r} must be one of {listed}, got {value!r}")

    return check


def instance_of(kind: type | tuple[type, ...], what: str, *, optional: bool = False) -> Check:
    def check(name: str, value: Any) -> None:
        if (value is None and optional) or isinstance(value, kind):
            return
        raise UsageError(f"{name!r} must be {what}, got {type(value).__name__}")

    return check


yes_no = instance_of(bool, "True or False")
