"""A resume after the input or the settings changed is refused before a changed line is used."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

import httpx2
import pytest

from syngen_improve import SeedPolicy, improve_dataset, sample_path
from syngen_improve.cli import main
from syngen_improve.errors import InputChanged, SettingsChanged
from syngen_improve.llm import AnthropicBackend
from syngen_improve.testing import FakeAnthropic

DATA = ("improved_examples.jsonl", "poor_examples.jsonl", "failed.jsonl", "quarantine.jsonl")


async def improve(src: Path, out: Path, **options: Any) -> Any:
    client = httpx2.AsyncClient(transport=FakeAnthropic().transport())
    async with AnthropicBackend(api_key="sk", base_url="http://fake", http_client=client) as b:
        return await improve_dataset(src, out, backend=b, progress=False, **options)


def snapshot(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in DATA if (out / name).exists()}


@pytest.fixture
def lines(tmp_path: Path) -> list[bytes]:
    return sample_path().read_bytes().splitlines(keepends=True)[:40]


@pytest.mark.parametrize("change", ["prepend", "edit", "delete_last", "reorder", "delete_first"])
async def test_a_changed_input_is_refused_and_outputs_stay(
    change: str, lines: list[bytes], tmp_path: Path
) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out"
    src.write_bytes(b"".join(lines))
    await improve(src, out)
    before = snapshot(out)
    changed = list(lines)
    if change == "prepend":
        changed.insert(0, lines[5])
    elif change == "edit":
        example = json.loads(changed[20])
        example["conversations"][0]["content"] += " (edited)"
        changed[20] = json.dumps(example).encode() + b"\n"
    elif change == "delete_last":
        changed.pop()
    elif change == "delete_first":
        changed.pop(0)
    else:
        changed[10], changed[11] = changed[11], changed[10]
    src.write_bytes(b"".join(changed))
    with pytest.raises(InputChanged, match="Use a new folder"):
        await improve(src, out, resume=True)
    assert snapshot(out) == before


async def test_appended_lines_are_new_work(lines: list[bytes], tmp_path: Path) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out"
    src.write_bytes(b"".join(lines[:30]))
    first = await improve(src, out)
    src.write_bytes(b"".join(lines))
    second = await improve(src, out, resume=True)
    assert second.counts.input == 40
    assert second.counts.improved > first.counts.improved


async def test_other_settings_are_refused_unless_accepted(
    lines: list[bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out"
    src.write_bytes(b"".join(lines))
    await improve(src, out)
    stricter = SeedPolicy(overall_below=3.5)
    with pytest.raises(SettingsChanged, match="policy: SeedPolicy"):
        await improve(src, out, resume=True, policy=stricter)
    result = await improve(src, out, resume=True, policy=stricter, accept_changes=True)
    history = result.report.run_history
    assert "policy" in history[-1].accepted_changes[0]
    args = ["improve", str(src), "--out", str(out), "--resume", "--backend", "fake",
            "--model", "claude-haiku-4-5", "--no-progress"]  # fmt: skip
    assert await asyncio.to_thread(main, args) == 2
    assert "model: claude-haiku-5-5 -> claude-haiku-4-5" in capsys.readouterr().err
    report = json.loads((out / "report.json").read_text())
    assert report["runs"] == 2  # the refused resume recorded nothing


def documented_key(line: bytes) -> str:
    """docs/improve.md's formula, written independently of the library."""
    canonical = json.dumps(json.loads(line), sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False)  # fmt: skip
    return hashlib.blake2b(canonical.encode(), digest_size=8).hexdigest()


async def test_records_carry_their_lines_key_and_the_run_that_wrote_them(
    lines: list[bytes], tmp_path: Path
) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out"
    src.write_bytes(b"".join(lines[:30]))
    await improve(src, out)
    src.write_bytes(b"".join(lines))
    await improve(src, out, resume=True)
    runs = [json.loads(r)["run"] for r in (out / "state" / "runs.jsonl").read_text().splitlines()]
    assert len(runs) == 2
    assert runs[0] != runs[1]
    settings = json.loads((out / "state" / "manifest.json").read_text())["settings"]
    seen = 0
    for name in ("improved_examples.jsonl", "poor_examples.jsonl", "failed.jsonl"):
        for raw in (out / name).read_bytes().splitlines():
            record = json.loads(raw)
            line = record["_source_line"]
            assert record["_source_key"] == documented_key(lines[line - 1])
            provenance = record["_provenance"]
            assert provenance["run"] == runs[0 if line <= 30 else 1]
            assert provenance["model"] == settings["model"]
            assert provenance["templates"] == settings["templates"]
            assert provenance["schemas"] == settings["schemas"]
            seen += 1
    assert seen >= 40  # every poor line has a poor record, and more besides


async def test_an_input_that_carries_stamps_of_its_own_gets_the_runs(
    lines: list[bytes], tmp_path: Path
) -> None:
    """Feeding a run's output to another run: the new records name the new input."""
    src, out = tmp_path / "in.jsonl", tmp_path / "out"
    stamped = []
    for raw in lines:
        example = json.loads(raw)
        example |= {"_source_line": 999, "_source_key": "x", "_provenance": {"run": "old"}}
        stamped.append(json.dumps(example).encode() + b"\n")
    src.write_bytes(b"".join(stamped))
    await improve(src, out)
    for raw in (out / "improved_examples.jsonl").read_bytes().splitlines():
        record = json.loads(raw)
        assert record["_source_key"] == documented_key(stamped[record["_source_line"] - 1])
        assert record["_provenance"]["run"] != "old"


async def test_the_shard_is_part_of_the_resume_check(tmp_path: Path) -> None:
    """Resuming a ``--shard 1/2`` folder as ``--shard 2/2`` would mix the shards in one
    folder: refused, even with accept_changes; the folder is left as it was."""
    out = tmp_path / "out"
    await improve(sample_path(), out, shard=(1, 2), limit=30)
    before = snapshot(out)
    for accept in (False, True):
        with pytest.raises(SettingsChanged, match="holds shard 1/2, not 2/2"):
            await improve(sample_path(), out, shard=(2, 2), resume=True, accept_changes=accept)
    with pytest.raises(SettingsChanged, match="holds shard 1/2, not none"):
        await improve(sample_path(), out, resume=True)
    assert snapshot(out) == before
    done = await improve(sample_path(), out, shard=(1, 2), resume=True)
    assert done.report.complete


async def test_a_manifest_of_format_1_resumes_under_the_same_shard(tmp_path: Path) -> None:
    out = tmp_path / "out"
    await improve(sample_path(), out, shard=(1, 2), limit=30)
    manifest = out / "state" / "manifest.json"
    old = json.loads(manifest.read_text())
    old["format"] = 1
    del old["settings"]["shard"]
    manifest.write_text(json.dumps(old))
    done = await improve(sample_path(), out, shard=(1, 2), resume=True)
    assert done.report.complete


def test_a_damaged_manifest_is_exit_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    args = ["improve", str(sample_path()), "--out", str(out), "--backend", "fake",
            "--no-progress", "--limit", "10"]  # fmt: skip
    assert main(args) == 0
    (out / "state" / "manifest.json").write_text("{garbage")
    capsys.readouterr()
    assert main([*args, "--resume"]) == 2
    err = capsys.readouterr().err
    assert "manifest.json is damaged" in err
    assert "Traceback" not in err
