"""The one router: every input line read and given its route, for the run, ``estimate``
and ``analyze`` alike.

A line is read (JSONL), kept or skipped by ``limit`` and ``shard``, read in its dialect
(as the text grammar), and then routed: ``malformed`` (not a JSON object), ``duplicate``
(with ``dedupe``: its content repeats an earlier line's; duplicates are counted either
way), ``invalid`` (an object not shaped like an example), ``good`` or ``poor`` (by the
relabel policy, with the issue kinds to fix). The profile of what was routed (the
report's analysis) is built on the way. The router writes nothing: the caller hands
each routed line to its sinks.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, Protocol

import orjson

from .._conventions import iter_tool_calls
from .._input import check_input, not_jsonl
from .._jsonl import Malformed, Record, read_jsonl
from ..context._convention import SEVEN_FIELDS, ContextConvention, resolve_convention
from ..context._detect import detect_file_convention
from ..dialects import Dialect, FileDialect, check_dialect
from ..errors import InvalidInput
from ._policy import RelabelPolicy, SeedPolicy
from ._profile import DatasetProfile, ProfileBuilder
from ._seen import SeenKeys
from ._shape import shape_problem

__all__ = ["Route", "RouteOptions", "Routed", "Router", "analyze_dataset", "content_key"]

Route = Literal["malformed", "duplicate", "invalid", "good", "poor"]


def content_key(item: Record | Malformed) -> bytes:
    """A line's content key (8 bytes): of its JSON with sorted keys (so key order and
    whitespace do not matter), or of its raw bytes when it is not JSON. Records carry it
    as ``_source_key`` (hex)."""
    raw = (
        item.raw
        if isinstance(item, Malformed)
        else orjson.dumps(item.data, option=orjson.OPT_SORT_KEYS)
    )
    return hashlib.blake2b(raw, digest_size=8).digest()


class RouteOptions(Protocol):
    """What a router reads of a run's config (``ImproveConfig`` has them all)."""

    @property
    def policy(self) -> RelabelPolicy: ...
    @property
    def dialect(self) -> Dialect | None: ...
    @property
    def context(self) -> ContextConvention | None: ...
    @property
    def limit(self) -> int | None: ...
    @property
    def shard(self) -> tuple[int, int] | None: ...
    @property
    def dedupe(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Routed:
    """One input line and its route: the line as read, its content key (hex), and for an
    object the example in the text grammar, the dialect it was read in and (poor ones)
    the issue kinds to fix; ``problem`` says why a line is ``invalid`` or a
    ``duplicate``."""

    route: Route
    item: Record | Malformed
    key: str
    example: dict[str, Any] | None = None
    dialect: Dialect | None = None
    issues: frozenset[str] = frozenset()
    problem: str | None = None

    @property
    def line(self) -> int:
        return self.item.line

    @property
    def data(self) -> dict[str, Any]:
        """The row as read (a JSON object's lines only)."""
        assert isinstance(self.item, Record)
        return self.item.data


class Router:
    """Routes the lines of ``path`` (see the module docstring). ``witness`` sees every
    line read, of every shard, with its content key, before it is routed (the run checks
    it against what earlier runs read). Content keys (and the duplicate count, whose index
    of the keys seen is a spill file in ``spill``, else a temporary folder, not memory) are
    only made for a witness or ``dedupe``.
    ``complete`` is true once the input was read to its end (not stopped by ``limit``)."""

    def __init__(
        self,
        path: Path,
        *,
        policy: RelabelPolicy | None = None,
        dialect: Dialect | None = None,
        context: ContextConvention | None = None,
        limit: int | None = None,
        shard: tuple[int, int] | None = None,
        dedupe: bool = False,
        witness: Callable[[Record | Malformed, bytes], None] | None = None,
        spill: Path | None = None,
    ) -> None:
        self.path = path
        self.context = context or SEVEN_FIELDS
        self.profile = ProfileBuilder(policy=policy or SeedPolicy(), context=self.context)
        self.dialect = FileDialect(dialect)
        self.limit, self.shard, self.dedupe = limit, shard, dedupe
        self.witness = witness
        self.read = 0  # lines of this shard read
        self.duplicates = 0
        self.spill = spill
        self._seen: SeenKeys | None = None  # content key -> first line, while iterating
        self.no_calls = 0  # rows without a tool call (nothing for the gate to keep)
        self.no_calls_lines: list[int] = []  # the first 20 of them
        self.complete = False

    @classmethod
    def of(cls, path: Path, config: RouteOptions, **more: Any) -> Router:
        """The router of a run's input, with the run's options."""
        return cls(
            path,
            policy=config.policy,
            dialect=config.dialect,
            context=config.context,
            limit=config.limit,
            shard=config.shard,
            dedupe=config.dedupe,
            **more,
        )

    def __iter__(self) -> Iterator[Routed]:
        keyed = self.witness is not None or self.dedupe
        with SeenKeys(self.spill) if keyed else contextlib.nullcontext() as seen:
            self._seen = seen
            try:
                for n, item in enumerate(read_jsonl(self.path), 1):
                    if self.limit is not None and n > self.limit:
                        return
                    digest = content_key(item) if keyed else b""
                    if self.witness is not None:
                        self.witness(item, digest)
                    if self.shard is not None and (item.line - self.shard[0]) % self.shard[1]:
                        continue
                    self.read += 1
                    yield self.route(item, digest)
                self.complete = True
            finally:
                self._seen = None

    def route(self, item: Record | Malformed, digest: bytes = b"") -> Routed:
        """Route one line read (``digest``: its content key, when keys are made); its
        profile is added to :meth:`analysis`. A Ray worker routes its own lines this way."""
        key = digest.hex()
        if isinstance(item, Malformed):
            self.profile.add_malformed(item)
            return Routed("malformed", item, key)
        line = item.line
        example, found = self.dialect.read_in(item.data, line)
        first = self._seen.first(digest, line) if self._seen is not None else line
        if first != line:
            self.duplicates += 1
            if self.dedupe:
                return Routed("duplicate", item, key, problem=f"duplicate of line {first}")
        problem = shape_problem(example)
        if problem is not None:
            self.profile.add_invalid(line, problem)
            return Routed("invalid", item, key, problem=problem)
        if not any(iter_tool_calls(example)):
            self.no_calls += 1
            if len(self.no_calls_lines) < 20:
                self.no_calls_lines.append(line)
        poor, kinds = self.profile.add_with_issues(example)
        return Routed("poor" if poor else "good", item, key, example, found, kinds)

    def analysis(self, *, complete: bool, good_included: int = 0) -> dict[str, Any]:
        """``state/analysis.json``: the input's profile as far as it was read."""
        profile = self.profile.build()
        deduped = self.duplicates if self.dedupe else 0
        return {
            "input": profile.total + len(profile.malformed) + len(profile.invalid) + deduped,
            "malformed": len(profile.malformed),
            "invalid": len(profile.invalid),
            "good": profile.good,
            "poor": profile.poor,
            "good_included": good_included,
            "duplicates": self.duplicates,
            "deduped": deduped,
            "issues_structural": profile.issues_structural,
            "issues_notes": profile.issues_notes,
            "means_poor": profile.means_poor,
            "tools": profile.tools,
            "agents": profile.agents,
            **self.dialect.report(),
            "context": self.context.to_dict(),
            "no_tool_call": self.no_calls,
            "no_tool_call_lines": list(self.no_calls_lines),
            "complete": complete,
        }


def analyze_dataset(
    path: str | os.PathLike[str],
    *,
    policy: RelabelPolicy | None = None,
    dialect: Dialect | None = None,
    context: ContextConvention | str | os.PathLike[str] | None = None,
) -> DatasetProfile:
    """Profile a JSONL dataset in one streaming pass.

    Malformed lines (not a JSON object) and invalid examples (an object of the wrong
    shape, e.g. scores given as strings) are listed with their line numbers, never fatal. ``policy``
    decides which examples are poor (default: :class:`SeedPolicy`); ``dialect`` forces the
    file's dialect (default: from its first row; see :mod:`syngen_improve.dialects`);
    ``context`` the context convention (default: detected from the first rows; see
    :mod:`syngen_improve.context`).
    """
    check_dialect(dialect)
    source = check_input(path)
    convention = resolve_convention(context) or detect_file_convention(source, dialect)
    router = Router(source, policy=policy, dialect=dialect, context=convention)
    objects = sum(1 for routed in router if routed.route != "malformed")
    profile = router.profile.build()
    if not objects and profile.malformed:
        raise InvalidInput(not_jsonl(source, "no line is a JSON object"))
    return replace(profile, **router.dialect.report())
