"""Turning ``backend=`` into a backend where the built-in fake is one of the names.

``llm`` makes the real backends; the fake lives in ``testing``, which builds on ``llm``,
so the one function that knows both is here, above them (the improver and the judge use
it): ``backend="fake"`` in Python is what ``--backend fake`` is on the command line.
"""

from __future__ import annotations

from .llm import Backend
from .llm._choose import BackendName
from .llm._choose import open_backend as open_real_backend

__all__ = ["open_backend"]


def open_backend(backend: Backend | BackendName | None, *, model: str) -> tuple[Backend, bool]:
    """The backend to use and whether it was made here (then the caller closes it):
    ``"fake"`` is the built-in fake model on a local server
    (:class:`~syngen_improve.testing.FakeBackend`), anything else as in
    :func:`syngen_improve.llm._choose.open_backend`."""
    if backend == "fake":
        from .testing import FakeBackend  # only when asked: the fake costs start-up time

        return FakeBackend(model=model), True
    return open_real_backend(backend, model=model)
