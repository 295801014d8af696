"""Where and with what key to connect, checked before the first request.

A key read from a file or a ``.env`` often carries a trailing newline, and a base URL
may lack its scheme. Sent as they are, both fail inside the HTTP client as a local
error that looks like a connection failure, so the run would wait for a service that
is fine. Surrounding whitespace is stripped from a key; anything else a header cannot
carry, a URL that is not ``http(s)://host...``, and one carrying credentials
(``user:password@``, which the HTTP client refuses beside the key's header) are refused
naming their source (never showing the key or the password).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from ..errors import UsageError

__all__ = ["check_base_url", "clean_key", "without_credentials"]


def clean_key(key: str, *, source: str) -> str:
    """``key`` without surrounding whitespace; :class:`UsageError` naming ``source`` if
    what is left has a character an HTTP header cannot carry."""
    stripped = key.strip()
    for position, char in enumerate(stripped, 1):
        if not (char.isascii() and char.isprintable()) or char.isspace():
            what = f"U+{ord(char):04X}"
            raise UsageError(
                f"{source} has a character an HTTP header cannot carry ({what} at "
                f"position {position} of {len(stripped)}): copy the key again"
            )
    return stripped


def check_base_url(url: str, *, source: str) -> str:
    """``url`` (stripped) if it is an ``http(s)://host`` URL; else :class:`UsageError`."""
    cleaned = url.strip()
    shown = without_credentials(cleaned)
    wrong = UsageError(f"{source} must be an http:// or https:// URL with a host, got {shown!r}")
    try:
        parts = urlsplit(cleaned)
        _ = parts.port  # a port that is not a number raises here
    except ValueError:
        raise wrong from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise wrong
    if parts.username is not None or parts.password is not None:
        raise UsageError(
            f"{source} carries credentials (a user:password@ before its host; without them: "
            f"{shown!r}): give the base URL without them; the key goes in ANTHROPIC_API_KEY "
            "(a gateway's own headers: default_headers)"
        )
    return cleaned


def without_credentials(url: str) -> str:
    """``url`` with any ``user:password@`` taken out (safe to print)."""
    try:
        parts = urlsplit(url)
        if parts.username is None and parts.password is None:
            return url
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
    except ValueError:
        return "an address that is not a URL"
    return urlunsplit(parts._replace(netloc=netloc))
