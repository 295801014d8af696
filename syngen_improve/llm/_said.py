"""What a server said when it did not answer, in its own words, and where the request went.

Not every server in front of a model speaks the API's error format: a gateway (LiteLLM,
a company proxy) answers an unknown model or a missing credential in its framework's
shape (``{"detail": ...}``, ``{"message": ...}``, ``{"error": "..."}``) or in plain text.
Its sentence is what tells the user what to fix, so it is read whatever the shape, and a
body that is no JSON at all is quoted (its start, redacted by the caller). A 404 names
the URL requested: a base URL with one path segment too many (``.../v1`` for the Messages
API) is the common cause. A base URL nobody set is said to be the default.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ..errors import option
from ._backend import BackendError
from ._redact import Redactor

__all__ = ["CONNECT", "BaseURL", "connection_error", "error_text", "said"]

#: The error type of a request that never reached a server (nothing listening, a name
#: that does not resolve, a TLS handshake refused): before any answer, a setting's fault.
CONNECT: Final = "connect"

#: Characters of a body quoted when it carries no message we can find.
QUOTED: Final = 200


def error_text(body: Any, raw: bytes) -> tuple[str | None, str | None]:
    """(message, error type) of an error answer: the API's ``error`` object (Anthropic's
    and OpenAI's), else a gateway's ``detail`` / ``message`` / ``error`` string, else the
    start of the body as text; (``None``, ``None``) for an empty body."""
    if isinstance(body, Mapping):
        err = body.get("error")
        if isinstance(err, Mapping):
            kind = err.get("type")
            message = _words(err.get("message")) or _words(err)
            if message:
                return message, kind if isinstance(kind, str) else None
        for name in ("detail", "message", "error", "msg"):
            message = _words(body.get(name))
            if message:
                return message, None
    text = raw[: QUOTED * 4].decode("utf-8", errors="replace").strip()
    if len(text) > QUOTED:
        text = text[:QUOTED] + "..."
    return text or None, None


def said(
    status: int,
    body: Any,
    raw: bytes,
    *,
    base: BaseURL | None,
    path: str,
    key: str,
    gateway: bool,
) -> tuple[str, str | None]:
    """(message, error type) of an error answer to a request at ``path``, for every
    backend: the server's words (:func:`error_text`), and where the status has a usual
    cause, the hint: on 401/403 the key to check (``key``: where it comes from) and, behind
    a ``gateway``, its own header; on 404 the URL asked and the base URL's form."""
    message, kind = error_text(body, raw)
    message = message or "an answer without a message"
    if status in (401, 403):
        hint = (
            f"; a gateway's own key or header: {option('--header NAME=VALUE', 'headers=')}"
            if gateway
            else ""
        )
        message = f"{message} (check {key}{hint})"
    elif status == 404 and base is not None:
        message = f"{message}: {base.not_found(path)}"
    return message, kind


def _words(value: Any, depth: int = 0) -> str | None:
    """The sentence in a field: a string, or one nested under a usual name (FastAPI's
    validation errors are a list of ``{"msg": ...}``)."""
    if isinstance(value, str):
        return value.strip() or None
    if depth > 2:
        return None
    if isinstance(value, Mapping):
        for name in ("message", "error", "detail", "msg"):
            found = _words(value.get(name), depth + 1)
            if found:
                return found
    if isinstance(value, list):
        said = [w for w in (_words(v, depth + 1) for v in value[:5]) if w]
        return "; ".join(said) or None
    return None


@dataclass(frozen=True)
class BaseURL:
    """A backend's base URL and where it came from (``source``: the argument or variable
    that set it; ``default``: nobody did), with what the API's paths are appended to it."""

    url: str
    source: str
    default: bool
    #: How the base URL should look (said on a 404), e.g. "the API's root (http://host:4000,
    #: not .../v1)".
    form: str

    def described(self) -> str:
        """``url``, saying when it is the default (safe to print: no credentials in it)."""
        if self.default:
            return f"{self.url} (the default: {self.source} is not set)"
        return f"{self.url} ({self.source})"

    def not_found(self, path: str) -> str:
        """What a 404 at ``path`` (under the base URL) says beyond the server's words."""
        return (
            f"{self.url}{path} was not found: check the base URL {self.described()}; it "
            f"should be {self.form}"
        )


def connection_error(exc: BaseException, base: BaseURL, redact: Redactor) -> BackendError:
    """A transport failure as a :class:`BackendError` naming where it went; one that never
    reached a server has the error type :data:`CONNECT` (see the module docstring)."""
    import aiohttp  # loaded by every backend that gets here

    never = isinstance(exc, aiohttp.ClientConnectorError | ConnectionRefusedError | socket.gaierror)
    message = f"connection error at {base.described()}: {type(exc).__name__}: {exc}"
    return BackendError(redact(message), error_type=CONNECT if never else "connection")
