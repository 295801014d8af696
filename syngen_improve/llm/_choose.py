"""Turning a ``backend=`` option into a backend, for every entry point that takes one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from ..errors import UsageError
from ._anthropic import AnthropicBackend
from ._backend import Backend
from ._batch import BatchBackend
from ._direct import DirectBackend
from ._openai import CacheControl, OpenAIBackend

__all__ = ["BackendName", "Connection", "check_backend", "open_backend"]

BackendName = Literal["anthropic", "sdk", "batch", "openai", "fake"]
_NAMES = ("anthropic", "sdk", "batch", "openai", "fake")


def check_backend(backend: object) -> None:
    """Raise :class:`UsageError` unless ``backend`` is ``None``, a known name or an object
    that looks like a :class:`Backend` (checked before any work is done)."""
    if backend is None or backend in _NAMES:
        return
    if isinstance(backend, str) or not isinstance(backend, Backend):
        raise UsageError(
            "'backend' must be 'anthropic', 'sdk', 'batch', 'openai', 'fake' or a Backend, "
            f"got {backend!r}"
        )


@dataclass(frozen=True)
class Connection:
    """What a backend made here is told beyond the environment: extra headers for every
    request (after ``SYNGEN_IMPROVE_HEADERS``'), and the OpenAI backend's cache marks."""

    headers: Mapping[str, str] | tuple[tuple[str, str], ...] = field(default=())
    openai_cache_control: CacheControl = "auto"


def open_backend(
    backend: Backend | BackendName | None, *, model: str, connection: Connection | None = None
) -> tuple[Backend, bool]:
    """The backend to use and whether it was made here (then the caller closes it).
    ``None`` and the names make one from the environment; an instance is used as is.
    ``anthropic`` (the default) is the Messages API through :class:`DirectBackend`;
    ``sdk`` is the same API through the official SDK (:class:`AnthropicBackend`).
    ``fake`` is not made here (the fake lives in ``syngen_improve.testing``, above this
    package): see ``syngen_improve._backends``."""
    c = connection or Connection()
    headers = dict(c.headers)
    if backend is None or backend == "anthropic":
        return DirectBackend(model=model, default_headers=headers), True
    if backend == "sdk":
        return AnthropicBackend(model=model, default_headers=headers), True
    if backend == "batch":
        return BatchBackend(model=model, default_headers=headers), True
    if backend == "openai":
        cache = c.openai_cache_control
        return OpenAIBackend(model=model, default_headers=headers, cache_control=cache), True
    if backend == "fake":
        raise UsageError("the 'fake' backend is opened by syngen_improve._backends.open_backend")
    check_backend(backend)
    return backend, False
