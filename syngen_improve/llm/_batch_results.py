"""A message batch's results: downloaded through the configured base URL, found on disk by
``custom_id`` (an offset per id, not the results in memory), and read back as replies."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import orjson

from ._backend import BackendError, Reply
from ._messages import read_reply
from ._redact import Redactor

__all__ = ["Results", "download", "to_reply"]

_STATUS: Final = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}


class Results:
    """The results files of a run's batches, indexed by ``custom_id``."""

    def __init__(self) -> None:
        self._at: dict[str, tuple[Path, int]] = {}  # custom_id -> results file, offset

    def __contains__(self, custom_id: object) -> bool:
        return custom_id in self._at

    def add(self, path: Path) -> None:
        """Index the results file ``path`` (one result a line)."""
        offset = 0
        with open(path, "rb") as fh:
            for raw in fh:
                if raw.strip():
                    custom_id = orjson.loads(raw).get("custom_id")
                    if isinstance(custom_id, str):
                        self._at[custom_id] = (path, offset)
                offset += len(raw)

    def read(self, custom_id: str) -> dict[str, Any]:
        """The ``result`` object of ``custom_id``."""
        path, offset = self._at[custom_id]
        with open(path, "rb") as fh:
            fh.seek(offset)
            result: dict[str, Any] = orjson.loads(fh.readline())["result"]
        return result


async def download(
    client: Any, response_class: type[Any], batch_id: str, path: Path, base: str
) -> None:
    """Stream the results of ``batch_id`` to ``path`` (they can be hundreds of MB) from the
    configured base URL ``base`` with the SDK ``client``: never from the batch's
    ``results_url``, which names the origin's host (behind a gateway, one the user did not
    configure and whose key is not the user's), and never after a redirect (the key would
    follow it)."""
    tmp = path.with_name(path.name + ".tmp")
    where = f"/v1/messages/batches/{batch_id}/results"
    response = await client.get(
        where,
        cast_to=response_class,
        options={
            # The SDK's own switch (what its with_streaming_response sets): the response
            # comes back unread, and streams to disk.
            "headers": {"accept": "application/binary", "X-Stainless-Raw-Response": "stream"},
            "follow_redirects": False,
        },
    )
    try:
        if response.status_code != 200:
            raise BackendError(
                f"the batch results at {base}{where} answered HTTP {response.status_code}",
                status=response.status_code,
            )
        with open(tmp, "wb") as fh:
            async for chunk in response.aiter_bytes():
                fh.write(chunk)
    finally:
        await response.aclose()
    tmp.replace(path)


def to_reply(result: dict[str, Any], redact: Redactor) -> Reply:
    """A batch result as the reply of an online request (an error as its error)."""
    kind = result.get("type")
    if kind == "succeeded":
        return read_reply(result.get("message"), {}, redact)
    if kind == "errored":
        err = (result.get("error") or {}).get("error") or {}
        error_type = str(err.get("type", "api_error"))
        raise BackendError(
            redact(str(err.get("message", "errored in the batch"))),
            status=_STATUS.get(error_type, 500),
            error_type=error_type,
        )
    raise BackendError(f"the batch request was {kind}", error_type=str(kind))
