"""Turning a ``backend=`` option into a backend, for every entry point that takes one."""

from __future__ import annotations

from typing import Literal

from ..errors import UsageError
from ._anthropic import AnthropicBackend
from ._backend import Backend
from ._batch import BatchBackend
from ._direct import DirectBackend
from ._openai import OpenAIBackend

__all__ = ["BackendName", "check_backend", "open_backend"]

BackendName = Literal["anthropic", "direct", "batch", "openai"]


def check_backend(backend: object) -> None:
    """Raise :class:`UsageError` unless ``backend`` is ``None``, a known name or an object
    that looks like a :class:`Backend` (checked before any work is done)."""
    if backend is None or backend in ("anthropic", "direct", "batch", "openai"):
        return
    if isinstance(backend, str) or not isinstance(backend, Backend):
        raise UsageError(
            "'backend' must be 'anthropic', 'direct', 'batch', 'openai' or a Backend, "
            f"got {backend!r}"
        )


def open_backend(backend: Backend | BackendName | None, *, model: str) -> tuple[Backend, bool]:
    """The backend to use and whether it was made here (then the caller closes it).
    ``None`` and the names make one from the environment; an instance is used as is."""
    if backend is None or backend == "anthropic":
        return AnthropicBackend(model=model), True
    if backend == "direct":
        return DirectBackend(model=model), True
    if backend == "batch":
        return BatchBackend(model=model), True
    if backend == "openai":
        return OpenAIBackend(model=model), True
    check_backend(backend)
    return backend, False
