"""The whole run: ``improve_dataset`` puts the files around the improve stage.

Stages, in the order a line meets them: the source (``_source``), the improver
(``syngen_improve.improve``), the sinks (``_sinks``) and the finisher (``_finish``).
"""

from __future__ import annotations

from ._pipeline import improve_dataset, improve_dataset_sync
from ._result import ImproveResult

__all__ = ["ImproveResult", "improve_dataset", "improve_dataset_sync"]
