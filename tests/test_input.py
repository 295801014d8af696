"""A path that is not a JSONL file is refused saying what it is, by every command, exit 2,
before any request."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from syngen_improve import analyze_dataset, sample_path
from syngen_improve.cli import main
from syngen_improve.errors import InputNotFound, InvalidInput

ROW = json.dumps({"conversations": [{"role": "user", "content": "hi"}]})


def make(tmp_path: Path, kind: str) -> Path:
    """A file of ``kind`` (its content made here, apart from the package's sniffing)."""
    path = tmp_path / f"input.{kind}"
    if kind == "csv":
        path.write_text("prompt,answer,score\nhello,hi,3\n")
    elif kind == "tsv":
        path.write_text("prompt\tanswer\nhello\thi\n")
    elif kind == "array":
        path.write_text(f"[{ROW},\n{ROW}]\n")
    elif kind == "pretty":
        path.write_text(json.dumps(json.loads(ROW), indent=2) + "\n")
    elif kind == "gzip":
        path.write_bytes(gzip.compress(sample_path().read_bytes()))
    elif kind == "utf16":
        path.write_text(ROW + "\n", encoding="utf-16")  # with its byte order mark
    elif kind == "utf16le":
        path.write_bytes((ROW + "\n").encode("utf-16-le"))  # without one
    return path


SAYS = {
    "csv": "this looks like CSV",
    "tsv": "this looks like TSV",
    "array": "this looks like a JSON array",
    "pretty": "this looks like one JSON object over many lines",
    "gzip": "this is a gzip file",
    "utf16": "this is text in UTF-16",
    "utf16le": "this is text in UTF-16 (no byte order mark)",
}


@pytest.mark.parametrize("kind", list(SAYS))
@pytest.mark.parametrize("command", ["improve", "analyze", "validate", "estimate"])
def test_what_a_file_looks_like_is_named(
    tmp_path: Path, kind: str, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make(tmp_path, kind)
    args = [command, str(path)]
    if command == "improve":
        args += ["--out", str(tmp_path / "out"), "--backend", "fake", "--no-progress"]
    code = main(args)
    err = capsys.readouterr().err
    if command == "validate" and kind in ("csv", "tsv", "array", "pretty"):
        assert code != 0  # every line fails validation, each named
        return
    assert code == 2, err
    assert "expected JSONL, one JSON object per line" in err
    assert SAYS[kind] in err
    assert "Traceback" not in err


def test_a_directory_and_a_device_are_said_as_such(tmp_path: Path) -> None:
    with pytest.raises(InputNotFound, match="is a directory, not a file"):
        analyze_dataset(tmp_path)
    with pytest.raises(InvalidInput, match=r"not a regular file \(a character device\)"):
        analyze_dataset("/dev/zero")
    with pytest.raises(InputNotFound, match="input file not found"):
        analyze_dataset(tmp_path / "missing.jsonl")


def test_a_conversion_command_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        analyze_dataset(make(tmp_path, "array"))
    assert f"jq -c '.[]' {tmp_path / 'input.array'} > {tmp_path / 'input.jsonl'}" in str(
        caught.value
    )


def test_a_jsonl_file_with_some_bad_lines_is_still_analyzed(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text("not json\n" + sample_path().read_text())
    profile = analyze_dataset(path)
    assert len(profile.malformed) == 2  # the line added, and the sample's own
