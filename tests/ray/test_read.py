"""read_jsonl's ranges: every line once, numbered and read as the single-process reader
reads it, wherever the ranges end (no Ray instance needed: the range functions alone)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("ray")

from syngen_improve.ray._read import _chunks, _lines

LINES = st.lists(
    st.sampled_from(
        [b'{"a": 1}\n', b'{"b": "\xc3\xa9"}\r\n', b"\n", b"not json\n", b'{"c": "x\rz"}\n']
    ),
    max_size=40,
)


def _read(path: Path, block_bytes: int) -> list[tuple[int, bytes]]:
    out: list[tuple[int, bytes]] = []
    for chunk in _chunks(path, block_bytes):
        table = _lines({k: [v] for k, v in chunk.items()})
        out += list(zip(table["line"].to_pylist(), table["raw"].to_pylist(), strict=True))
    return out


@settings(max_examples=60, deadline=None)
@given(lines=LINES, tail=st.sampled_from([b"", b'{"last": true}']), block=st.integers(1, 64))
def test_every_line_once_as_the_file_reader_numbers_it(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], tail: bytes, block: int
) -> None:
    path = tmp_path_factory.mktemp("read") / "in.jsonl"
    data = b"\xef\xbb\xbf" + b"".join(lines) + tail
    path.write_bytes(data)
    got = _read(path, block)
    with open(path, "rb") as fh:
        want = list(enumerate(fh, 1))
    assert got == want
