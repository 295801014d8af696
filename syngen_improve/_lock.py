"""One run per output folder: an exclusive lock the OS releases when the process dies.

A lock on ``state/lock`` is held for the run's lifetime (``fcntl.flock`` on POSIX systems,
``msvcrt.locking`` of one byte far past the holder's record on Windows); a killed run never
blocks the next one (the OS drops the lock with the process), and a second run on the same
folder is refused at once with the holder named (pid, host, start, command), read from the
lock file the holder wrote.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Final

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
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
        try:
            _lock(fd)
        except (BlockingIOError, PermissionError):
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
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, orjson.dumps(info) + b"\n")
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


#: Where the Windows lock's byte is: past any record, so the record stays readable
#: (Windows locks are mandatory: a locked byte cannot be read by another process).
_LOCKED_BYTE: Final = 1 << 30


def _lock(fd: int) -> None:
    """Take the lock on ``fd`` at once, or raise ``BlockingIOError`` / ``PermissionError``
    (Windows) when another process holds it. It goes with the descriptor."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        os.lseek(fd, _LOCKED_BYTE, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined,unused-ignore]
        return
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        info: Any = orjson.loads(os.read(fd, 4096) or b"{}")
    except (OSError, orjson.JSONDecodeError):
        info = {}
    if not isinstance(info, dict) or "pid" not in info:
        return "holder unknown"
    return f"pid {info['pid']} on {info.get('host', '?')} since {info.get('started', '?')}"
