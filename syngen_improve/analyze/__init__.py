"""Analysis: relabel policy, issue detectors and the dataset profile."""

from __future__ import annotations

from ._notes import detect_from_notes
from ._policy import RelabelPolicy, SeedPolicy
from ._profile import DatasetProfile, ProfileBuilder, agent_of, issue_kinds
from ._route import analyze_dataset
from ._shape import shape_problem
from ._structural import STRUCTURAL_KINDS, detect_structural, is_natural_request

__all__ = [
    "DatasetProfile",
    "ProfileBuilder",
    "RelabelPolicy",
    "STRUCTURAL_KINDS",
    "SeedPolicy",
    "agent_of",
    "analyze_dataset",
    "detect_from_notes",
    "detect_structural",
    "is_natural_request",
    "issue_kinds",
    "shape_problem",
]
