"""Turning a ``backend=`` option into a backend, for every entry point that takes one."""

from __future__ import annotations

from typing import Literal

from ..errors import UsageError
from ._anthropic import AnthropicBackend
from ._backend import Backend
from ._batch import BatchBackend
from ._openai import OpenAIBackend

__all__ = ["BackendName", "open_backend"]

BackendName = Literal["anthropic", "batch", "openai"]


def open_backend(backend: Backend | BackendName | None, *, model: str) -> tuple[Backend, bool]:
    """The backend to use and whether it was made here (then the caller closes it).
    ``None`` and the names make one from the environment; an instance is used as is."""
    if backend is None or backend == "anthropic":
        return AnthropicBackend(model=model), True
    if backend == "batch":
        return BatchBackend(model=model), True
    if backend == "openai":
        return OpenAIBackend(model=model), True
    if isinstance(backend, str):
        raise UsageError(
            f"'backend' must be 'anthropic', 'batch', 'openai' or a Backend, got {backend!r}"
        )
    return backend, False
