"""The review: every row of an output folder browsed, searched and decided on (accept,
reject, edit), the decisions kept in the folder's ``review.jsonl`` and honoured by the
KTO file, ``export``, ``interleave``, ``merge``, ``to_datasets()`` and the report."""

from __future__ import annotations

from .._decisions import DECISIONS, REVIEW_FILE, Decision, Decisions
from .._reviewed import reviewed_copy
from ._folder import EditRefused, Review
from ._server import ReviewServer, serve_review

__all__ = [
    "DECISIONS",
    "Decision",
    "Decisions",
    "EditRefused",
    "REVIEW_FILE",
    "Review",
    "ReviewServer",
    "reviewed_copy",
    "serve_review",
]
