"""Every resource of a run is closed whatever happens, and the first error is the one seen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

import syngen_improve._reviewed
import syngen_improve.llm._choose
from syngen_improve import improve_dataset, sample_path
from syngen_improve._lock import FolderLock
from syngen_improve.errors import FolderBusy, OutputExists, ServiceRefused
from syngen_improve.llm import DirectBackend
from syngen_improve.outputs import Layout
from syngen_improve.testing import FakeAnthropicServer, FakeConfig


class Counting(DirectBackend):
    """The backend ``improve_dataset`` makes, counting how many are open."""

    opened: ClassVar[int] = 0
    closed: ClassVar[int] = 0

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        Counting.opened += 1

    async def aclose(self) -> None:
        Counting.closed += 1
        await super().aclose()


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropicServer]:
    Counting.opened = Counting.closed = 0
    monkeypatch.setattr(syngen_improve.llm._choose, "DirectBackend", Counting)
    with FakeAnthropicServer(config=FakeConfig(api_key="sk-good")) as srv:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", srv.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-good")
        yield srv


def break_the_finisher(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the finisher failed")

    monkeypatch.setattr(syngen_improve._reviewed, "interleave_files", fail)


async def test_an_output_dir_that_is_a_file_opens_nothing(
    tmp_path: Path, server: FakeAnthropicServer
) -> None:
    out = tmp_path / "out"
    out.write_text("not a folder\n")
    with pytest.raises(OutputExists, match="is a file"):
        await improve_dataset(sample_path(), out, progress=False)
    assert Counting.opened == Counting.closed == 0
    assert out.read_text() == "not a folder\n"
    assert server.counters.requests == 0


async def test_a_failing_finisher_surfaces_after_the_backend_is_closed(
    tmp_path: Path, server: FakeAnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    break_the_finisher(monkeypatch)
    with pytest.raises(RuntimeError, match="the finisher failed"):
        await improve_dataset(sample_path(), tmp_path, progress=False, limit=20)
    assert Counting.opened == Counting.closed == 1
    assert server.counters.requests > 0  # the run itself went through


async def test_the_original_error_wins_over_a_failing_finisher(
    tmp_path: Path, server: FakeAnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    break_the_finisher(monkeypatch)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-wrong")
    with pytest.raises(ServiceRefused) as info:
        await improve_dataset(sample_path(), tmp_path, progress=False)
    assert any("the finisher failed" in note for note in info.value.__notes__)
    assert Counting.opened == Counting.closed == 1


async def test_the_backend_is_closed_before_the_finisher_runs(
    tmp_path: Path, server: FakeAnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, int]] = []
    real = syngen_improve._reviewed.interleave_files

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append((Counting.opened, Counting.closed))
        return real(*args, **kwargs)

    monkeypatch.setattr(syngen_improve._reviewed, "interleave_files", spy)
    result = await improve_dataset(sample_path(), tmp_path, progress=False, limit=20)
    assert result.ok
    assert seen == [(1, 1)]


async def test_the_folder_stays_locked_until_the_report_is_written(
    tmp_path: Path, server: FakeAnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    real = syngen_improve._reviewed.interleave_files

    def another_run_tries(*args: Any, **kwargs: Any) -> Any:
        try:
            with FolderLock(Layout(tmp_path).lock, folder=tmp_path):
                seen.append("free")
        except FolderBusy:
            seen.append("held")
        return real(*args, **kwargs)

    monkeypatch.setattr(syngen_improve._reviewed, "interleave_files", another_run_tries)
    await improve_dataset(sample_path(), tmp_path, progress=False, limit=10)
    assert seen == ["held"]
    with FolderLock(Layout(tmp_path).lock, folder=tmp_path):  # and free afterwards
        pass
