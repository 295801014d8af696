"""How one example ended: :class:`Outcome`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

__all__ = ["ANSWER_CHARS", "Outcome", "Status"]

Status = Literal["improved", "failed", "good"]


#: Characters of a failed example's last answer kept in ``failed.jsonl``.
ANSWER_CHARS: Final = 20_000


@dataclass(frozen=True)
class Outcome:
    """How one example ended.

    ``key`` ties it to its input (the line number in a file run, the position in
    :meth:`Improver.stream`). ``status`` is ``improved`` (``record`` holds the
    improvement, label true), ``failed`` (``reason`` and ``errors`` say why) or
    ``good`` (not poor under the relabel policy: nothing was asked). ``attempts`` counts
    the answers, ``rejections`` the reason each rejected one was rejected. ``transient``
    marks a failure of the service (no answer after the retries: connection errors,
    timeouts, 429/5xx/529, a 400 that other requests got too), which a resume retries,
    unlike an example the model could not improve or the API refused (a 4xx for this
    request). ``http_status`` is the last failed request's status (``None``: no response).
    ``answer``: a failed example's last rejected answer (what the gate read, cut at
    :data:`ANSWER_CHARS`), for a person to review.
    """

    key: int
    status: Status
    example: Mapping[str, Any]
    record: dict[str, Any] | None = None
    attempts: int = 0
    rejections: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    issues: frozenset[str] = field(default_factory=frozenset)
    transient: bool = False
    http_status: int | None = None
    answer: str | None = None

    @property
    def reason(self) -> str | None:
        """Why a failed example failed (its last rejection)."""
        if self.status != "failed":
            return None
        return self.rejections[-1] if self.rejections else "unknown"
