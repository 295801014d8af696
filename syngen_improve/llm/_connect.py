"""Where and with what key to connect, checked before the first request.

A key read from a file or a ``.env`` often carries a trailing newline, and a base URL
may lack its scheme. Sent as they are, both fail inside the HTTP client as a local
error that looks like a connection failure, so the run would wait for a service that
is fine. Surrounding whitespace is stripped from a key; anything else a header cannot
carry, and a URL that is not ``http(s)://host...``, is refused naming its source (never
showing the key).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ..errors import UsageError

__all__ = ["check_base_url", "clean_key"]


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
    parts = urlsplit(cleaned)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(
            f"{source} must be an http:// or https:// URL with a host, got {cleaned!r}"
        )
    return cleaned
