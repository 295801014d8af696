"""The dataset profile: the seed's analysis phase as one streaming pass."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from .._conventions import DIMENSIONS, iter_tool_calls
from .._jsonl import Malformed
from ..context._convention import SEVEN_FIELDS, ContextConvention
from ._notes import detect_from_notes, issues_to_fix
from ._policy import RelabelPolicy, SeedPolicy
from ._structural import STRUCTURAL_KINDS, detect_structural

__all__ = ["DatasetProfile", "ProfileBuilder", "agent_of", "issue_kinds"]

_MEAN_KEYS = (*DIMENSIONS, "overall_quality")
_NOTES_KINDS = STRUCTURAL_KINDS[:5]


def agent_of(tool: str) -> str:
    """The agent of a ``manager_mode`` tool name: the part before the first underscore."""
    return tool.split("_", 1)[0]


@dataclass
class _Means:
    sums: dict[str, float] = field(default_factory=lambda: dict.fromkeys(_MEAN_KEYS, 0.0))
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_MEAN_KEYS, 0))

    def add(self, scores: Mapping[str, Any]) -> None:
        for key in _MEAN_KEYS:
            value = scores.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                self.sums[key] += value
                self.counts[key] += 1

    def result(self) -> dict[str, float | None]:
        return {k: (self.sums[k] / self.counts[k] if self.counts[k] else None) for k in _MEAN_KEYS}


@dataclass(frozen=True)
class DatasetProfile:
    """What :func:`analyze_dataset` found. Issue counts are over the poor examples."""

    total: int
    good: int
    poor: int
    relabeled: int
    malformed: list[Malformed]
    means_poor: dict[str, float | None]
    means_all: dict[str, float | None]
    issues_notes: dict[str, int]
    issues_structural: dict[str, int]
    tools: dict[str, int]
    agents: dict[str, int]
    invalid: list[tuple[int, str]] = field(default_factory=list)
    #: Examples with no quality score at all (an improvement not yet judged): the policy
    #: reads their ``label``, and the means leave them out.
    unscored: int = 0
    #: The file's dialect (see :mod:`syngen_improve.dialects`), and the rows in another
    #: one (their count and first 20 lines): a mixed file is still read, row by row.
    dialect: str | None = None
    other_dialect: int = 0
    other_dialect_lines: list[int] = field(default_factory=list)
    #: The context convention the context issues were looked for with (its name).
    context: str = SEVEN_FIELDS.name

    def to_dict(self) -> dict[str, Any]:
        """The JSON form printed by ``syngen-improve analyze --json``."""

        def rounded(means: dict[str, float | None]) -> dict[str, float | None]:
            return {k: (None if v is None else round(v, 4)) for k, v in means.items()}

        return {
            "total": self.total,
            "good": self.good,
            "poor": self.poor,
            "relabeled": self.relabeled,
            "unscored": self.unscored,
            "malformed": [{"line": m.line, "error": m.error} for m in self.malformed],
            "invalid": [{"line": line, "error": error} for line, error in self.invalid],
            "means_poor": rounded(self.means_poor),
            "means_all": rounded(self.means_all),
            "issues_notes": dict(self.issues_notes),
            "issues_structural": dict(self.issues_structural),
            "tools": dict(self.tools),
            "agents": dict(self.agents),
            "dialect": self.dialect,
            "other_dialect": self.other_dialect,
            "other_dialect_lines": list(self.other_dialect_lines),
            "context": self.context,
        }

    def format_table(self) -> str:
        """A human-readable summary: counts, means, issues side by side, agents."""
        share = f"{self.poor / self.total:.1%}" if self.total else "-"
        out = [
            f"examples     {self.total:>7}   malformed lines {len(self.malformed)}"
            f"   invalid examples {len(self.invalid)}   dialect {self.dialect or '-'}"
            f"   context {self.context}",
            f"poor         {self.poor:>7}   ({share}; {self.relabeled} relabeled)",
            f"good         {self.good:>7}",
            *(
                [f"unscored     {self.unscored:>7}   (no quality scores: good or poor by label)"]
                if self.unscored
                else []
            ),
            "",
            f"{'dimension':<24}{'mean (poor)':>12}{'mean (all)':>12}",
        ]
        for key in _MEAN_KEYS:
            p, a = self.means_poor[key], self.means_all[key]
            out.append(f"{key:<24}{_fmt(p):>12}{_fmt(a):>12}")
        out += ["", f"{'issue (over the poor)':<24}{'notes':>8}{'structural':>12}"]
        for kind in STRUCTURAL_KINDS:
            notes = str(self.issues_notes[kind]) if kind in self.issues_notes else "-"
            out.append(f"{kind:<24}{notes:>8}{self.issues_structural.get(kind, 0):>12}")
        out += ["", f"tools {len(self.tools)} over {len(self.agents)} agents:"]
        out += [f"  {agent:<22}{count:>7} calls" for agent, count in self.agents.items()]
        for m in self.malformed:
            out.append(f"line {m.line}: malformed: {m.error}")
        if self.other_dialect:
            out.append(
                f"{self.other_dialect} rows are not in the file's dialect "
                f"({self.dialect}), lines {self.other_dialect_lines}: each was read "
                "in its own"
            )
        return "\n".join(out)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


class ProfileBuilder:
    """Accumulates a :class:`DatasetProfile` one record at a time (constant memory)."""

    def __init__(
        self, *, policy: RelabelPolicy | None = None, context: ContextConvention = SEVEN_FIELDS
    ) -> None:
        self.policy: RelabelPolicy = policy if policy is not None else SeedPolicy()
        self.context = context
        self._total = self._poor = self._relabeled = self._unscored = 0
        self._malformed: list[Malformed] = []
        self._invalid: list[tuple[int, str]] = []
        self._means_poor, self._means_all = _Means(), _Means()
        self._notes: Counter[str] = Counter(dict.fromkeys(_NOTES_KINDS, 0))
        self._structural: Counter[str] = Counter(dict.fromkeys(STRUCTURAL_KINDS, 0))
        self._tools: Counter[str] = Counter()

    def add_malformed(self, item: Malformed) -> None:
        """Record a line that could not be read."""
        self._malformed.append(item)

    def add_invalid(self, line: int, problem: str) -> None:
        """Record a JSON object that is not shaped like an example (see shape_problem)."""
        self._invalid.append((line, problem))

    def add(self, example: Mapping[str, Any]) -> bool:
        """Profile one example; returns whether the policy finds it poor."""
        return self.add_with_issues(example)[0]

    def add_with_issues(self, example: Mapping[str, Any]) -> tuple[bool, frozenset[str]]:
        """Profile one example; returns whether it is poor and, when it is, the issue
        kinds to fix (from its structure, its low scores, and its notes where a score is
        missing: :func:`issues_to_fix`), so callers need not detect again."""
        self._total += 1
        poor = self.policy(example)
        scores = example.get("quality_scores")
        if isinstance(scores, Mapping) and any(k in scores for k in _MEAN_KEYS):
            self._means_all.add(scores)
            if poor:
                self._means_poor.add(scores)
        else:
            self._unscored += 1
        calls = list(iter_tool_calls(example))
        kinds: frozenset[str] = frozenset()
        if poor:
            self._poor += 1
            notes = detect_from_notes(example)
            structural = detect_structural(example, calls=calls, context=self.context).keys()
            self._notes.update(notes)
            self._structural.update(structural)
            kinds = _applicable(issues_to_fix(example, structural, notes), self.context)
        if example.get("label") is poor:  # label True on a poor one, or False on a good one
            self._relabeled += 1
        for _turn, call in calls:
            if call.name:
                self._tools[call.name] += 1
        return poor, kinds

    def build(self) -> DatasetProfile:
        """The profile of everything added so far."""
        tools = dict(sorted(self._tools.items()))
        agents: Counter[str] = Counter()
        for name, count in tools.items():
            agents[agent_of(name)] += count
        return DatasetProfile(
            total=self._total,
            good=self._total - self._poor,
            poor=self._poor,
            relabeled=self._relabeled,
            unscored=self._unscored,
            malformed=list(self._malformed),
            invalid=list(self._invalid),
            means_poor=self._means_poor.result(),
            means_all=self._means_all.result(),
            issues_notes=dict(self._notes),
            issues_structural=dict(self._structural),
            tools=tools,
            agents=dict(sorted(agents.items())),
            context=self.context.name,
        )


def issue_kinds(
    example: Mapping[str, Any], *, context: ContextConvention = SEVEN_FIELDS
) -> frozenset[str]:
    """The issue kinds to fix in one example (what :meth:`ProfileBuilder.add_with_issues`
    finds for a poor one)."""
    found = detect_structural(example, context=context)
    return _applicable(issues_to_fix(example, found), context)


#: Issue kinds about a context field, and the fields they need.
_FIELD_KINDS: Final = {
    "empty_session_memory": ("sessionMemory",),
    "generic_tool_context": ("toolContext",),
    "weak_goals": ("primaryGoal", "subgoal"),
}


def _applicable(kinds: frozenset[str], context: ContextConvention) -> frozenset[str]:
    """``kinds`` less those about context fields the convention does not have."""
    return frozenset(k for k in kinds if all(f in context.fields for f in _FIELD_KINDS.get(k, ())))
