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

import os
import re
from collections.abc import Iterable, Mapping
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from ..errors import UsageError, option

__all__ = [
    "HEADERS_ENV",
    "check_base_url",
    "clean_key",
    "extra_headers",
    "header_pairs",
    "parse_header",
    "secret_values",
    "without_credentials",
]

#: Headers added to every request of every backend, one ``NAME=VALUE`` a line (a
#: gateway's own key, a tenant id); ``--header`` / ``headers=`` add to them and win.
HEADERS_ENV: Final = "SYNGEN_IMPROVE_HEADERS"
_TOKEN: Final = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
#: Header names whose values are credentials (redacted like the key).
_SECRET_NAMES: Final = ("key", "token", "auth", "secret", "pass", "cookie", "session", "cred")
_KEYLIKE: Final = re.compile(r"[A-Za-z0-9_\-.~+/=]{16,}")


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


def parse_header(item: str, *, source: str) -> tuple[str, str]:
    """``NAME=VALUE`` as a (lower-cased name, value) pair; :class:`UsageError` naming
    ``source`` (never showing the value, which may be a key)."""
    name, sep, value = item.partition("=")
    name, value = name.strip(), value.strip()
    if not sep or not _TOKEN.fullmatch(name):
        # Without an '=' the whole item may be a key pasted alone: never shown.
        shown = repr(name) if sep and _TOKEN.fullmatch(name) else "a header name"
        raise UsageError(
            f"{source}: give NAME=VALUE, with {shown} before the '=' (a header name is "
            "letters, digits and !#$%&'*+-.^_`|~)"
        )
    clean_key(value, source=f"{source} (the value of {name})")
    return name.lower(), value


def header_pairs(
    value: Mapping[str, str] | Iterable[str | tuple[str, str]], *, source: str
) -> tuple[tuple[str, str], ...]:
    """Headers as given (a mapping, ``NAME=VALUE`` strings or (name, value) pairs), each
    checked (:func:`parse_header`), names lower-cased; ``source`` names the option."""
    items = value.items() if isinstance(value, Mapping) else value
    out: list[tuple[str, str]] = []
    for item in items:
        if isinstance(item, str):
            out.append(parse_header(item, source=source))
        elif isinstance(item, tuple) and len(item) == 2 and all(isinstance(i, str) for i in item):
            out.append(parse_header(f"{item[0]}={item[1]}", source=source))
        else:
            raise UsageError(f"{source!r} takes NAME=VALUE strings or (name, value) pairs")
    return tuple(out)


def extra_headers(given: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> dict[str, str]:
    """The headers of :data:`HEADERS_ENV`, then ``given`` (which win); names lower-cased."""
    out: dict[str, str] = {}
    for number, line in enumerate(os.environ.get(HEADERS_ENV, "").splitlines(), 1):
        if line.strip():
            name, value = parse_header(line, source=f"{HEADERS_ENV} line {number}")
            out[name] = value
    out.update(header_pairs(given or (), source=option("--header", "headers")))
    return out


def secret_values(headers: Mapping[str, str]) -> list[str]:
    """The values among ``headers`` that may be credentials: any under a name that says so
    (``x-litellm-api-key``, ``authorization``, a cookie) and any that looks like a key (16
    or more characters of a token's alphabet, letters and digits both)."""
    out: list[str] = []
    for name, value in headers.items():
        keylike = any(
            _KEYLIKE.fullmatch(word) and re.search(r"\d", word) and re.search(r"[A-Za-z]", word)
            for word in value.split()
        )
        if keylike or any(part in name for part in _SECRET_NAMES):
            out.extend(word for word in value.split() if len(word) >= 8)
    return out
