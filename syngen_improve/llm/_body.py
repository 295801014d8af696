"""Reply bodies read within a cap, compressed or not.

The largest real answer (128K output tokens) is well under a megabyte of JSON, so a reply
is read up to :data:`MAX_BODY` bytes, counted both as received and once inflated: a server
that sends an endless body, or a small gzip body that inflates to gigabytes (a bomb),
costs a bounded amount of memory and becomes an error saying so. Only the encodings
asked for (``accept-encoding``) are read.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from ._backend import BackendError
from ._redact import Redactor

if TYPE_CHECKING:
    import aiohttp

__all__ = ["ACCEPTED_ENCODINGS", "MAX_BODY", "read_capped"]

#: The most bytes of one reply body read, received or inflated.
MAX_BODY: Final = 16 * 2**20
#: Sent as ``accept-encoding``; other encodings are refused.
ACCEPTED_ENCODINGS: Final = "gzip, deflate"
_CHUNK: Final = 1 << 16


def _too_big(how: str, limit: int) -> BackendError:
    return BackendError(
        f"the reply body is over {limit // 2**20} MiB {how}: not read further",
        error_type="bad_response",
    )


async def read_capped(
    stream: aiohttp.StreamReader,
    headers: Mapping[str, str],
    redact: Redactor,
    *,
    limit: int = MAX_BODY,
) -> bytes:
    """The body of a reply (``headers`` lower-cased), inflated, at most ``limit`` bytes
    either way; a :class:`BackendError` past that or for an encoding not asked for."""
    encoding = headers.get("content-encoding", "").strip().lower()
    if encoding in ("gzip", "x-gzip", "deflate"):
        inflater = zlib.decompressobj(wbits=47)  # gzip or zlib, told by the header
    elif encoding in ("", "identity"):
        inflater = None
    else:
        raise BackendError(
            redact(
                f"the reply is encoded as {encoding!r}, not one asked for ({ACCEPTED_ENCODINGS})"
            ),
            error_type="bad_response",
        )
    length = headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise _too_big("as sent", limit)
    out = bytearray()
    received = 0
    async for chunk in stream.iter_chunked(_CHUNK):
        received += len(chunk)
        if received > limit:
            raise _too_big("as sent", limit)
        if inflater is None:
            out += chunk
        else:
            out += inflater.decompress(chunk, limit + 1 - len(out))
            if inflater.unconsumed_tail:
                raise _too_big("once inflated", limit)
        if len(out) > limit:
            raise _too_big("once inflated" if inflater else "as sent", limit)
    if inflater is not None:
        out += inflater.flush()
        if len(out) > limit:
            raise _too_big("once inflated", limit)
    return bytes(out)
