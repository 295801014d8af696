"""Prompt templates: package data files, each replaceable by a path or a string.

``system`` is the fixed system prompt (cached across requests); ``issues`` maps an
issue kind to the instruction block sent only when that issue is detected; ``reask``
wraps the gate's errors when an answer is sent back (``{errors}`` is replaced). The
system template's ``{context_convention}`` line becomes the rules of the run's context
convention (:meth:`Templates.system_for`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Final

from ..context._convention import SEVEN_FIELDS, ContextConvention
from ..errors import InputNotFound, InvalidInput

__all__ = ["CONTEXT_MARK", "ISSUE_BLOCKS", "Templates", "context_section", "judge_system_prompt"]

#: Where the system template takes the context convention's section.
CONTEXT_MARK: Final = "{context_convention}"

#: Issue kind (analyze's names) -> template file of its instruction block.
ISSUE_BLOCKS: Final = {
    "empty_session_memory": "issue_session_memory",
    "generic_tool_context": "issue_tool_context",
    "missing_result": "issue_result",
    "weak_goals": "issue_goals",
    "unnatural_prompt": "issue_prompt",
    "missing_context": "issue_structure",
    "malformed_ids": "issue_structure",
    "malformed_tool_call": "issue_structure",
}

TemplateSource = str | os.PathLike[str]


@cache
def _bundled(name: str) -> str:
    """A bundled template's text (package data: read once per process)."""
    return (resources.files(__package__) / "templates" / f"{name}.md").read_text("utf-8")


def context_section(convention: ContextConvention) -> str:
    """The system prompt's section on the context object: the bundled text for the
    seven-field convention, one written from the fields for a user's own, none for
    ``none``."""
    if not convention.active:
        return ""
    if convention == SEVEN_FIELDS:
        return _bundled("context_context7")
    key = convention.key
    where = "the first key" if convention.first else "a key"
    fields = []
    for name in convention.fields:
        text = f"`{name}`"
        if name in convention.patterns:
            text += f" (matches the regular expression `{convention.patterns[name]}` in full)"
        if name in convention.descriptions:
            text += f": {convention.descriptions[name]}"
        fields.append(text)
    listed = f" and holds these string fields, each required and never blank: {'; '.join(fields)}"
    return (
        f"## The `{key}` object\n\n- `{key}` is {where} of every call's arguments"
        f"{listed if fields else ''}. Keep values that already follow these rules as "
        "they are; the tool's own parameters come with it.\n"
    )


def judge_system_prompt() -> str:
    """The bundled judge prompt (the rubric in our words)."""
    return _bundled("judge")


def _text(source: TemplateSource) -> str:
    """A template from a path (``Path`` or a one-line string naming an existing file)
    or the text itself."""
    if isinstance(source, os.PathLike):
        return _read(Path(source))
    if "\n" not in source and source.endswith((".md", ".txt")) and Path(source).is_file():
        return _read(Path(source))
    return source


def _read(path: Path) -> str:
    """A template file's text; :class:`InvalidInput` naming the file when it is not UTF-8."""
    try:
        return path.read_text("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"template {path} is not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None


@dataclass(frozen=True)
class Templates:
    """The prompt texts of ``improve``. ``Templates.default()`` is the bundled set."""

    system: str
    issues: Mapping[str, str] = field(default_factory=dict)
    reask: str = "{errors}"

    def __post_init__(self) -> None:
        if not self.system.strip():
            raise InvalidInput("the system template is empty")
        if "{errors}" not in self.reask:
            raise InvalidInput("the reask template must contain '{errors}'")
        unknown = set(self.issues) - set(ISSUE_BLOCKS)
        if unknown:
            raise InvalidInput(
                f"unknown issue kind(s) {sorted(unknown)}; expected some of {sorted(ISSUE_BLOCKS)}"
            )

    @classmethod
    def default(cls) -> Templates:
        return cls(
            system=_bundled("system"),
            issues={kind: _bundled(name) for kind, name in ISSUE_BLOCKS.items()},
            reask=_bundled("reask"),
        )

    def override(
        self,
        *,
        system: TemplateSource | None = None,
        reask: TemplateSource | None = None,
        issues: Mapping[str, TemplateSource] | None = None,
    ) -> Templates:
        """A copy with some templates replaced (each a path or the text itself)."""
        merged = dict(self.issues)
        merged.update({k: _text(v) for k, v in (issues or {}).items()})
        return replace(
            self,
            system=_text(system) if system is not None else self.system,
            reask=_text(reask) if reask is not None else self.reask,
            issues=merged,
        )

    @classmethod
    def from_dir(cls, path: TemplateSource) -> Templates:
        """The bundled set with every file found in ``path`` (same names) replacing its
        counterpart: ``system.md``, ``reask.md``, ``issue_*.md``."""
        folder = Path(path)
        if not folder.is_dir():
            raise InputNotFound(f"templates folder not found: {folder}")
        base = cls.default()
        found = {p.stem: p for p in folder.glob("*.md")}
        issues = {k: found[n] for k, n in ISSUE_BLOCKS.items() if n in found}
        return base.override(system=found.get("system"), reask=found.get("reask"), issues=issues)

    def instructions(self, kinds: set[str] | frozenset[str]) -> list[str]:
        """The instruction blocks for ``kinds``, each once, in a stable order."""
        out: list[str] = []
        for kind in ISSUE_BLOCKS:
            block = self.issues.get(kind)
            if kind in kinds and block and block not in out:
                out.append(block)
        return out

    def system_for(self, context: ContextConvention) -> str:
        """The system prompt for data of ``context``: the template's
        ``{context_convention}`` line replaced by :func:`context_section` (a template
        without the mark is used as it is)."""
        if CONTEXT_MARK not in self.system:
            return self.system
        section = context_section(context).strip()
        if section:
            return self.system.replace(CONTEXT_MARK, section)
        return re.sub(r"\n{3,}", "\n\n", self.system.replace(CONTEXT_MARK, ""))

    def reask_text(self, errors: list[str]) -> str:
        return self.reask.replace("{errors}", "\n".join(f"- {e}" for e in errors))
