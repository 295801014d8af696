"""Validation: rules with stable codes, two profiles, and the tool schema registry."""

from __future__ import annotations

from ._file import ValidationReport, validate_file
from ._rules import RULES, Issue, Level, Profile, Rule, example_fails, validate_example
from ._schemas import ToolRegistry, ToolSchema

__all__ = [
    "Issue",
    "Level",
    "Profile",
    "RULES",
    "Rule",
    "ToolRegistry",
    "ToolSchema",
    "ValidationReport",
    "example_fails",
    "validate_example",
    "validate_file",
]
