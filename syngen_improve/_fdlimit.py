"""The process's open-file limit: checked before a run, and named when it is hit.

Every request in flight holds a socket, and a run also holds its input, its output files,
its lock and the interpreter's own descriptors. When the limit (``ulimit -n``) is hit,
the failure surfaces wherever a file happened to be opened next (a lazy import, a write,
a connection), so the system's message names an innocent file. Before a run the soft
limit is raised towards the hard one as far as the run needs (what servers commonly do);
when even the hard limit is too low the run is refused with the numbers. A connection or
file that fails with EMFILE/ENFILE later becomes :class:`TooManyOpenFiles` naming the limit.
"""

from __future__ import annotations

import errno
from typing import Final

from .errors import TooManyOpenFiles, option

__all__ = ["OVERHEAD", "ensure_open_files", "is_out_of_files", "open_files_limit", "out_of_files"]

#: Descriptors a run needs besides one socket per request in flight (standard streams,
#: the event loop, the input, five output files, the lock, state files, imports).
OVERHEAD: Final = 48


def open_files_limit() -> int | None:
    """The soft limit on open files, or ``None`` where the platform has none to read."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _hint(limit: int | None) -> str:
    held = f"this process may open {limit} files" if limit is not None else "a limit was hit"
    return (
        f"too many open files ({held}; `ulimit -n` shows the limit): raise it "
        f"(`ulimit -n 4096`) or lower the concurrency ({option('--concurrency', 'concurrency=')})"
    )


def ensure_open_files(concurrency: int) -> None:
    """Make room for ``concurrency`` sockets plus :data:`OVERHEAD`: raise the soft limit
    up to the hard one if needed; :class:`TooManyOpenFiles` when that is not enough."""
    try:
        import resource
    except ImportError:  # Windows: no limit to read or raise
        return
    needed = concurrency + OVERHEAD
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    if hard == resource.RLIM_INFINITY or hard >= needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
        return
    raise TooManyOpenFiles(
        f"a run at concurrency {concurrency} needs about {needed} open files, but this "
        f"process may open at most {hard} (`ulimit -n`): raise the limit or lower the "
        f"concurrency ({option('--concurrency', 'concurrency=')})"
    )


def is_out_of_files(exc: BaseException | None) -> bool:
    """Whether ``exc`` or anything in its cause/context chain is EMFILE or ENFILE."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.EMFILE, errno.ENFILE):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def out_of_files() -> TooManyOpenFiles:
    """The error to raise when an open failed for lack of descriptors."""
    return TooManyOpenFiles(_hint(open_files_limit()))
