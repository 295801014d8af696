"""Any OS: the package imports and the folder lock works where ``fcntl`` does not exist
(Windows), with ``msvcrt.locking`` standing in: here a stand-in built on POSIX record
locks (per process, as Windows' are), checked across two processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

#: Run first in each child: no fcntl. ``windows_locks()`` then puts in an msvcrt whose
#: locking() takes a POSIX record lock (only once the standard library is imported: some of
#: it takes a present msvcrt for Windows).
_WINDOWS_LIKE = textwrap.dedent(
    """
    import fcntl as _real, os, sys, types
    sys.modules["fcntl"] = None  # import fcntl -> ImportError

    def windows_locks():
        msvcrt = types.ModuleType("msvcrt")
        msvcrt.LK_NBLCK, msvcrt.LK_UNLCK = 2, 0
        def locking(fd, mode, n):
            where = os.lseek(fd, 0, os.SEEK_CUR)
            try:
                _real.lockf(fd, _real.LOCK_EX | _real.LOCK_NB, n, where)
            except OSError:
                raise PermissionError(13, "Permission denied") from None
        msvcrt.locking = locking
        sys.modules["msvcrt"] = msvcrt
    """
)


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _WINDOWS_LIKE + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_module_imports_without_fcntl() -> None:
    done = run(
        """
        import importlib, pkgutil, syngen_improve
        names = [m.name for m in pkgutil.walk_packages(syngen_improve.__path__, "syngen_improve.")]
        for name in names:
            if not name.endswith("__main__") and "pytest_plugin" not in name:
                importlib.import_module(name)
        print(len(names))
        """
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 100


def _locking(tmp_path: Path, body: str) -> str:
    """A child that takes the folder lock of ``tmp_path`` with Windows' locks, then runs
    ``body`` (``lock`` is the FolderLock)."""
    return (
        _WINDOWS_LIKE
        + textwrap.dedent(
            f"""
        import sys
        from pathlib import Path
        from syngen_improve._lock import FolderLock
        from syngen_improve.errors import FolderBusy
        windows_locks()
        folder = Path({str(tmp_path)!r})
        lock = FolderLock(folder / "state" / "lock", folder=folder)
        """
        )
        + textwrap.dedent(body)
    )


def test_the_folder_lock_refuses_a_second_process_without_fcntl(tmp_path: Path) -> None:
    hold = "with lock:\n    print('held', flush=True)\n    sys.stdin.readline()\n"
    take = (
        "try:\n    with lock:\n        print('taken')\nexcept FolderBusy as exc:\n    print(exc)\n"
    )
    command = [sys.executable, "-c", _locking(tmp_path, hold)]
    with subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as holder:
        assert holder.stdin is not None
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        second = subprocess.run(
            [sys.executable, "-c", _locking(tmp_path, take)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        holder.stdin.write("\n")
        holder.stdin.flush()
    assert "is in use by another run (pid" in second.stdout, second.stderr
    after = subprocess.run(
        [sys.executable, "-c", _locking(tmp_path, take)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert after.stdout.strip() == "taken", after.stderr


def test_a_fake_run_without_fcntl_and_a_second_one_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    improve = (
        "import subprocess, asyncio\n"  # what takes a present msvcrt for Windows: first
        "from syngen_improve import sample_path\n"
        "from syngen_improve.cli import main\n"
        "windows_locks()\n"
        f"sys.exit(main(['improve', str(sample_path()), '--out', {str(out)!r}, "
        "'--backend', 'fake', '--no-progress', '--limit', '40']))\n"
    )
    child = _WINDOWS_LIKE + "import sys\n" + improve
    hold = "with lock:\n    print('held', flush=True)\n    sys.stdin.readline()\n"
    with subprocess.Popen(
        [sys.executable, "-c", _locking(out, hold)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdin is not None
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        refused = subprocess.run(
            [sys.executable, "-c", child], capture_output=True, text=True, timeout=120
        )
        holder.stdin.write("\n")
        holder.stdin.flush()
    assert refused.returncode == 2, refused.stderr
    assert "in use by another run" in refused.stderr
    done = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert (out / "improved_interleaved.jsonl").stat().st_size > 0
