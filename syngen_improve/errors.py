"""The package's errors: one root, a class per kind of failure, each with its exit code.

Catch :class:`SyngenError` to handle everything the library raises on purpose. The
classes also derive from the builtin a caller would expect (``ValueError`` for a wrong
option, ``FileNotFoundError`` for a missing input, ...), so ``except ValueError`` keeps
working. The command line maps an error to its exit code in one place (``exit_code``);
any other exception is a bug and exits 70 with its traceback.
"""

from __future__ import annotations

import re
from typing import ClassVar, Final

__all__ = [
    "CacheWarning",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_SOFTWARE",
    "EXIT_TEMPFAIL",
    "EXIT_TERMINATED",
    "EXIT_USAGE",
    "FolderBusy",
    "InputChanged",
    "InputError",
    "InputNotFound",
    "InvalidInput",
    "ModelWarning",
    "OutputExists",
    "ResponseCacheWarning",
    "ServiceRefused",
    "SettingsChanged",
    "StrictToolWarning",
    "SyngenError",
    "SyngenWarning",
    "Terminated",
    "ThinkingWarning",
    "TooManyOpenFiles",
    "UsageError",
    "WriteFailed",
    "option",
]

EXIT_OK = 0
#: The run finished but some examples failed (or some lines did not validate).
EXIT_FAILED = 1
#: A wrong option, an unreadable input, a folder that holds other results, a refused key.
EXIT_USAGE = 2
#: A bug (EX_SOFTWARE): the traceback is shown.
EXIT_SOFTWARE = 70
#: Stopped by the service (EX_TEMPFAIL): some examples got no answer; resumable.
EXIT_TEMPFAIL = 75
#: Interrupted by Ctrl-C (SIGINT); the run can be resumed.
EXIT_INTERRUPTED = 130
#: Stopped by SIGTERM; the run can be resumed.
EXIT_TERMINATED = 143


#: An option named in a message, as the command line and as Python spell it (see option()).
_OPTION: Final = re.compile(r"\[\[([^|\]]+)\|([^\]]+)\]\]")


def option(cli: str, python: str) -> str:
    """An option named in an error message in both spellings (``--resume`` / ``resume=True``):
    ``str(error)`` shows the Python one, the command line the other."""
    return f"[[{cli}|{python}]]"


class SyngenError(Exception):
    """Root of every error the library raises on purpose. ``str(error)`` names options as
    Python spells them (``resume=True``); :meth:`cli_message` as the command line does."""

    exit_code: ClassVar[int] = EXIT_FAILED

    def __str__(self) -> str:
        return _OPTION.sub(r"\2", super().__str__())

    def cli_message(self) -> str:
        """The message with options as the command line spells them (``--resume``)."""
        return _OPTION.sub(r"\1", super().__str__())


class SyngenWarning(UserWarning):
    """Root of the library's warnings about a run; options named in both spellings, as in
    :class:`SyngenError`."""

    def __str__(self) -> str:
        return _OPTION.sub(r"\2", super().__str__())

    def cli_message(self) -> str:
        return _OPTION.sub(r"\1", super().__str__())


class UsageError(SyngenError, ValueError):
    """An option or argument has a wrong value; the message names it."""

    exit_code: ClassVar[int] = EXIT_USAGE


class InputError(SyngenError):
    """An input file or folder cannot be used; the message names it."""

    exit_code: ClassVar[int] = EXIT_USAGE


class InputNotFound(InputError, FileNotFoundError):
    """An input file or folder does not exist (or is not what it should be)."""


class InvalidInput(InputError, ValueError):
    """An input file can be read but its content is not usable (a schema file that is
    not JSON, a templates folder without a system prompt, folders that overlap)."""


class OutputExists(InputError, FileExistsError):
    """The output folder holds results that this call would mix with or overwrite."""


class InputChanged(InputError):
    """A resume found an input line that differs from what the earlier run read there."""


class SettingsChanged(InputError):
    """A resume with other settings (model, templates, schemas, policy) than the folder's."""


class FolderBusy(InputError):
    """Another run holds the output folder's lock (one run per folder)."""


class ServiceRefused(SyngenError):
    """The service refused the run as a whole (bad key, no permission, unknown model, a
    base URL that redirects): every other request would fail the same way, so the run
    stopped. Resumable once the cause is fixed. ``status`` is the HTTP status it answered
    (the message says the rest; no chained traceback)."""

    exit_code: ClassVar[int] = EXIT_USAGE

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Terminated(SyngenError):
    """The command got SIGTERM (``timeout``, systemd, Kubernetes, Slurm): it stopped as on
    Ctrl-C, with the report written and marked interrupted. Resumable."""

    exit_code: ClassVar[int] = EXIT_TERMINATED


class TooManyOpenFiles(SyngenError):
    """The process ran out of file descriptors (``ulimit -n``): the message gives the limit
    and what to change. Resumable once the limit is raised or the concurrency lowered."""

    exit_code: ClassVar[int] = EXIT_USAGE


class WriteFailed(SyngenError):
    """An output file could not be written (disk full, permissions); the message names
    the file and the system's reason. The run is resumable once the cause is fixed."""

    exit_code: ClassVar[int] = EXIT_USAGE


class StrictToolWarning(SyngenWarning):
    """The API refused the run's strict submit tool (its grammar too large): the run went
    on without strict tool use, answers checked by the gate alone. The report says so
    too (``answer_tool``)."""


class ModelWarning(SyngenWarning):
    """The run's model is not in the capability table (nothing is sent about thinking) or
    has no known price (its cost is reported as unknown, never $0; ``--price IN,OUT``)."""


class ThinkingWarning(SyngenWarning):
    """The API refused the run's thinking or tool-choice settings; the run went on in
    the other valid form (the report says so: ``thinking.switched``)."""


class CacheWarning(SyngenWarning):
    """The run's shared prompt prefix is too short for the model to cache it (the API
    caches nothing below a model's minimum length, silently): every request pays for the
    whole prompt. The report says so too (``cache``)."""


class ResponseCacheWarning(SyngenWarning):
    """The response cache's default folder cannot be used (not writable, not a cache of
    ours): the run goes on without reading or keeping answers."""
