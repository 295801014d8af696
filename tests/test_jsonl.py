from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from syngen_improve import JsonlWriter, Malformed, Record, read_jsonl, sample_path
from syngen_improve._jsonl import repair_torn_tail
from syngen_improve.errors import InvalidInput


def _read(path: Path) -> list[Record | Malformed]:
    return list(read_jsonl(path))


def test_reads_records_with_line_numbers_and_skips_blank_lines(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_bytes(b'{"a": 1}\n\n   \n{"b": 2}\n')
    items = _read(p)
    assert items == [Record(1, {"a": 1}), Record(4, {"b": 2})]


def test_bom_crlf_and_missing_final_newline(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_bytes(b'\xef\xbb\xbf{"a": 1}\r\n{"b": "x"}\r\n{"c": 3}')
    assert _read(p) == [Record(1, {"a": 1}), Record(2, {"b": "x"}), Record(3, {"c": 3})]


def test_malformed_lines_are_reported_and_reading_goes_on(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_bytes(b'{"a": 1}\n{"a": \n[1, 2]\n"text"\n{"ok": true}\n')
    items = _read(p)
    assert [type(i).__name__ for i in items] == [
        "Record", "Malformed", "Malformed", "Malformed", "Record",
    ]  # fmt: skip
    bad = [i for i in items if isinstance(i, Malformed)]
    assert [m.line for m in bad] == [2, 3, 4]
    assert bad[0].raw == b'{"a": '
    assert "expected a JSON object, got list" in bad[1].error
    assert items[-1] == Record(5, {"ok": True})


def test_invalid_utf8_is_malformed_not_fatal(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_bytes(b'{"a": "\xff\xfe"}\n{"b": 1}\n')
    items = _read(p)
    assert isinstance(items[0], Malformed)
    assert items[0].line == 1
    assert "utf-8" in items[0].error.lower()
    assert items[1] == Record(2, {"b": 1})
    assert items[0].to_dict()["raw"].startswith('{"a": "')


def test_very_long_line(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    big = "x" * 5_000_000
    p.write_bytes(orjson.dumps({"big": big}) + b"\n" + b'{"n": 2}\n')
    items = _read(p)
    assert isinstance(items[0], Record)
    assert items[0].data["big"] == big
    assert items[1] == Record(2, {"n": 2})


def test_reader_is_lazy(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_bytes(b'{"a": 1}\n' * 10)
    it = read_jsonl(p)
    assert next(it) == Record(1, {"a": 1})


def test_writer_appends_whole_lines(tmp_path: Path) -> None:
    p = tmp_path / "sub" / "out.jsonl"
    with JsonlWriter(p) as w:
        w.write({"a": 1})
        w.write_many([{"b": 2}, {"c": "é\n"}])
        w.write_many([])
        assert w.count == 3
    with JsonlWriter(p) as w:
        w.write({"d": 4})
    assert p.read_bytes().count(b"\n") == 4
    assert [r.data for r in read_jsonl(p) if isinstance(r, Record)] == [
        {"a": 1}, {"b": 2}, {"c": "é\n"}, {"d": 4},
    ]  # fmt: skip


def test_writer_refuses_after_close(tmp_path: Path) -> None:
    w = JsonlWriter(tmp_path / "o.jsonl")
    w.close()
    w.close()
    with pytest.raises(ValueError, match="closed"):
        w.write({"a": 1})


def test_writer_fsync_mode_writes(tmp_path: Path) -> None:
    p = tmp_path / "o.jsonl"
    with JsonlWriter(p, fsync=True) as w:
        w.write({"a": 1})
    assert p.read_bytes() == b'{"a":1}\n'


def test_torn_tail_is_cut_on_reopen(tmp_path: Path) -> None:
    p = tmp_path / "o.jsonl"
    p.write_bytes(b'{"a":1}\n{"b":2}\n{"c":')  # a crash in the middle of a record
    with JsonlWriter(p) as w:
        w.write({"c": 3})
    assert p.read_bytes() == b'{"a":1}\n{"b":2}\n{"c":3}\n'


def test_torn_tail_without_any_newline_and_across_blocks(tmp_path: Path) -> None:
    p = tmp_path / "o.jsonl"
    p.write_bytes(b'{"half": "' + b"y" * 200_000)
    assert repair_torn_tail(p) == 200_010
    assert p.read_bytes() == b""
    p.write_bytes(b'{"a":1}\n' + b"z" * 150_000)
    assert repair_torn_tail(p) == 150_000
    assert p.read_bytes() == b'{"a":1}\n'
    assert repair_torn_tail(p) == 0
    assert repair_torn_tail(tmp_path / "missing.jsonl") == 0


def test_a_whole_last_line_without_its_newline_is_kept(tmp_path: Path) -> None:
    """An editor that drops the final newline must not cost the last record."""
    p = tmp_path / "failed.jsonl"
    p.write_bytes(b'{"a":1}\n{"b":2}')
    assert repair_torn_tail(p) == 0
    assert p.read_bytes() == b'{"a":1}\n{"b":2}\n'
    with JsonlWriter(p) as w:
        w.write({"c": 3})
    assert p.read_bytes() == b'{"a":1}\n{"b":2}\n{"c":3}\n'
    p.write_bytes(b'  {"only": true}  ')  # no newline at all, spaces around
    assert repair_torn_tail(p) == 0
    assert [i.data for i in _read(p) if isinstance(i, Record)] == [{"only": True}]


def test_a_torn_tail_is_never_read_as_data(tmp_path: Path) -> None:
    # A strict prefix of a JSON object never decodes as an object.
    line = orjson.dumps({"k": [1, {"x": "}"}], "s": 'a\\"b'})
    for cut in range(1, len(line)):
        p = tmp_path / "t.jsonl"
        p.write_bytes(b'{"ok":1}\n' + line[:cut])
        items = _read(p)
        assert items[0] == Record(1, {"ok": 1})
        assert all(isinstance(i, Malformed) for i in items[1:]), cut


def test_single_write_call_per_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bytes] = []
    real_write = os.write

    def spy(fd: int, data: bytes | memoryview) -> int:
        calls.append(bytes(data))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", spy)
    with JsonlWriter(tmp_path / "o.jsonl") as w:
        w.write_many([{"a": 1}, {"b": 2}])
    assert calls == [b'{"a":1}\n{"b":2}\n']


def test_partial_os_writes_are_completed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = os.write

    def short(fd: int, data: bytes | memoryview) -> int:
        return real_write(fd, bytes(data)[:3])  # the OS may accept fewer bytes

    monkeypatch.setattr(os, "write", short)
    p = tmp_path / "o.jsonl"
    with JsonlWriter(p) as w:
        w.write({"long": "x" * 50})
    assert orjson.loads(p.read_bytes()) == {"long": "x" * 50}


def test_atomic_write_replaces_whole_or_not_at_all(tmp_path: Path) -> None:
    from syngen_improve._jsonl import replace_bytes, write_jsonl_atomic

    target = tmp_path / "out.jsonl"
    target.write_text('{"old": 1}\n')

    def failing() -> Iterator[dict[str, int]]:
        yield {"n": 1}
        raise RuntimeError("producer failed")

    with pytest.raises(RuntimeError, match="producer failed"):
        write_jsonl_atomic(target, failing(), batch=1)
    assert target.read_text() == '{"old": 1}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]
    assert write_jsonl_atomic(target, ({"n": n} for n in range(1000))) == 1000
    assert len(target.read_text().splitlines()) == 1000
    replace_bytes(tmp_path / "r.json", b"{}")
    assert (tmp_path / "r.json").read_bytes() == b"{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl", "r.json"]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_a_full_disk_names_the_file(tmp_path: Path) -> None:
    """Disk full (``/dev/full`` answers every write with ENOSPC) says which file: the
    system's own message names none for a write on an open file."""
    full = tmp_path / "full.jsonl"
    full.symlink_to("/dev/full")
    with JsonlWriter(full) as writer, pytest.raises(OSError, match="No space left") as caught:
        writer.write({"a": 1})
    assert caught.value.filename == str(full)
    with pytest.raises(InvalidInput, match="is a device, not a file"):
        list(read_jsonl(full))  # read forever otherwise


def test_a_run_on_a_full_disk_is_exit_2_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import types

    import syngen_improve._jsonl

    def full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    patched = types.SimpleNamespace(
        **{k: getattr(os, k) for k in dir(os) if not k.startswith("__")}
    )
    patched.write = full
    monkeypatch.setattr(syngen_improve._jsonl, "os", patched)
    from syngen_improve.cli import main

    out = tmp_path / "out"
    code = main(["improve", str(sample_path()), "--out", str(out), "--backend", "fake",
                 "--no-progress", "--limit", "20"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2, err
    assert str(out) in err
    assert "No space left on device" in err
    assert "Traceback" not in err
