"""One run per output folder: an exclusive lock the OS releases when the process dies.

``fcntl.flock`` on ``state/lock`` is held for the run's lifetime; a killed run never blocks
the next one (the kernel drops the lock with the process), and a second run on the same
folder is refused at once with the holder named (pid, host, start, command), read from the
lock file the holder wrote.
"""

from __future__ import annotations

import fcntl
import os
import socket
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson

from .errors import FolderBusy

__all__ = ["FolderLock"]


class FolderLock:
    """``with FolderLock(path):`` holds the lock at ``path`` (created with its folder)."""

    def __init__(self, path: Path, *, folder: Path) -> None:
        self.path = path
        self.folder = folder
        self._fd: int | None = None

    def __enter__(self) -> FolderLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise FolderBusy(
                f"{self.folder} is in use by another run ({holder}): wait for it to end, "
                "or write to another folder"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "command": " ".join(sys.argv[:1] + sys.argv[1:4]),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, orjson.dumps(info) + b"\n", 0)
        self._fd = fd
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor releases the lock


def _holder(fd: int) -> str:
    try:
        info: Any = orjson.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, orjson.JSONDecodeError):
        info = {}
    if not isinstance(info, dict) or "pid" not in info:
        return "holder unknown"
    return f"pid {info['pid']} on {info.get('host', '?')} since {info.get('started', '?')}"
