"""The improve stage: the acceptance gate and the :class:`Improver` (engine + prompt +
gate + re-asks), with no files. ``improve_dataset`` (in ``syngen_improve.run``) puts
the files around it."""

from __future__ import annotations

from ._gate import REASONS, Verdict, build_record, check_candidate, check_reply
from ._improver import Improver
from ._outcome import Outcome

__all__ = [
    "Improver",
    "Outcome",
    "REASONS",
    "Verdict",
    "build_record",
    "check_candidate",
    "check_reply",
]
