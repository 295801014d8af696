"""The response cache: what it keeps, what it refuses, damage, its bound, its folder."""

from __future__ import annotations

import sqlite3
import warnings
from pathlib import Path

import pytest

from syngen_improve import ImproveConfig
from syngen_improve._backends import open_responses
from syngen_improve.errors import ResponseCacheWarning, UsageError
from syngen_improve.llm import Reply, ResponseCache, Usage, default_cache_dir


def reply(text: str = "ok", stop: str | None = "tool_use") -> Reply:
    block = {"type": "tool_use", "id": "t1", "name": "submit", "input": {"text": text}}
    return Reply(content=[block], usage=Usage(10, 20, 30, 40), model="m", stop_reason=stop)


def test_a_complete_answer_comes_back_as_it_was_kept(tmp_path: Path) -> None:
    key = ResponseCache.key("scope", b'{"messages":[]}')
    with ResponseCache(tmp_path) as cache:
        assert cache.get(key) is None
        assert cache.put(key, reply("kept"))
    with ResponseCache(tmp_path) as cache:  # another process, later
        got = cache.get(key)
    assert got is not None
    assert (got.content, got.usage, got.model, got.stop_reason) == (
        reply("kept").content,
        Usage(10, 20, 30, 40),
        "m",
        "tool_use",
    )


@pytest.mark.parametrize("stop", ["refusal", "max_tokens", "pause_turn", None])
def test_an_answer_that_is_not_complete_is_never_kept(tmp_path: Path, stop: str | None) -> None:
    key = ResponseCache.key("scope", b"body")
    with ResponseCache(tmp_path) as cache:
        assert not cache.put(key, reply(stop=stop))
        assert cache.get(key) is None
        assert cache.entries() == 0


def test_the_key_is_the_scope_and_the_body() -> None:
    one = ResponseCache.key("anthropic-messages https://api.anthropic.com", b"body")
    assert one == ResponseCache.key("anthropic-messages https://api.anthropic.com", b"body")
    assert one != ResponseCache.key("anthropic-messages https://gateway.example", b"body")
    assert one != ResponseCache.key("anthropic-messages https://api.anthropic.com", b"body ")


def test_a_damaged_entry_is_asked_again_and_dropped(tmp_path: Path) -> None:
    key = ResponseCache.key("scope", b"body")
    with ResponseCache(tmp_path) as cache:
        cache.put(key, reply())
    db = sqlite3.connect(tmp_path / "responses.sqlite3")
    db.execute("UPDATE answers SET value = ?", (b"\x78\x01not zlib",))
    db.commit()
    db.close()
    with ResponseCache(tmp_path) as cache:
        assert cache.get(key) is None
        assert cache.entries() == 0
        assert cache.put(key, reply("again"))
        assert cache.get(key) is not None


def test_the_file_stays_within_its_bound_dropping_the_least_recently_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Use times are written once they are an hour old: here at once.
    monkeypatch.setattr("syngen_improve.llm._responses._TOUCH_AFTER", -1.0)
    keys = [ResponseCache.key("scope", str(i).encode()) for i in range(200)]
    with ResponseCache(tmp_path, max_bytes=20_000) as cache:
        for i, key in enumerate(keys):
            cache.put(key, reply(f"answer {i} " + "x" * (i % 7) * 40))
            if i % 10 == 0:
                assert cache.get(keys[0]) is not None  # kept in use: never the oldest
                cache.close()  # writes the use times read so far
                cache.open()
        (total,) = (
            cache._open_db().execute("SELECT value FROM meta WHERE name = 'bytes'").fetchone()
        )
        (measured,) = cache._open_db().execute("SELECT SUM(size) FROM answers").fetchone()
        assert total == measured <= 20_000
        assert cache.get(keys[0]) is not None
        assert cache.get(keys[1]) is None  # the oldest not read again: gone
        assert cache.get(keys[-1]) is not None
        assert 0 < cache.entries() < 200


def test_the_folder_comes_from_the_environment_then_xdg_then_the_user(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SYNGEN_IMPROVE_CACHE_DIR", str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("SYNGEN_IMPROVE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "syngen_improve"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "syngen_improve"


def test_a_folder_that_cannot_hold_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asked for: an error naming the file and the options; the default: a warning, and
    the run goes on without the cache."""
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "responses.sqlite3").write_bytes(b"this is not a database, it is a text file\n" * 20)
    with pytest.raises(
        UsageError, match=r"responses\.sqlite3 cannot be used.*cache_dir= or cache=False"
    ):
        open_responses(ImproveConfig(cache_dir=str(bad)))
    monkeypatch.setenv("SYNGEN_IMPROVE_CACHE_DIR", str(bad))
    with pytest.warns(ResponseCacheWarning, match="answers are not kept"):
        assert open_responses(ImproveConfig()) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert open_responses(ImproveConfig(cache=False)) is None


def test_the_options_are_checked_and_take_a_path(tmp_path: Path) -> None:
    assert ImproveConfig.of(cache_dir=tmp_path).cache_dir == str(tmp_path)
    with pytest.raises(UsageError, match="'cache_dir' must be a folder"):
        ImproveConfig(cache_dir="")
    with pytest.raises(UsageError, match="'cache'"):
        ImproveConfig(cache="yes")  # type: ignore[arg-type]


def test_a_request_digest_changes_with_every_part_of_its_body() -> None:
    import dataclasses

    from syngen_improve.llm import Request
    from syngen_improve.llm._backend import SharedTool

    tool = {"name": "submit", "input_schema": {"type": "object"}}
    base = Request(messages=[{"role": "user", "content": "hi"}], system="rules",
                   tools=[tool], tool_choice="submit", max_tokens=100)  # fmt: skip
    assert base.digest("m") == dataclasses.replace(base, tools=[SharedTool(tool)]).digest("m")
    changed = [
        dataclasses.replace(base, messages=[{"role": "user", "content": "hi!"}]),
        dataclasses.replace(base, system="rules."),
        dataclasses.replace(base, system_extra="more"),
        dataclasses.replace(base, tools=[{**tool, "strict": True}]),
        dataclasses.replace(base, max_tokens=101),
        dataclasses.replace(base, cache_ttl="1h"),
        dataclasses.replace(base, force_tool=False),
        dataclasses.replace(base, effort="low"),
        dataclasses.replace(base, model="other"),
    ]
    digests = {base.digest("m"), *(r.digest("m") for r in changed)}
    assert len(digests) == 1 + len(changed)
    assert base.digest("m") != base.digest("n")  # the default model is in the body


def test_a_fresh_entry_is_read_without_a_write(tmp_path: Path) -> None:
    """A repeated run reads its answers without writing their use time again (an hour's
    precision is all eviction needs)."""
    key = ResponseCache.key("scope", b"body")
    with ResponseCache(tmp_path) as cache:
        cache.put(key, reply())
        assert cache.get(key) is not None
        assert cache._touched == []


def test_an_inner_block_cannot_unask_an_outer_fresh_one() -> None:
    """The judge's first attempt says ``fresh_answers(False)``; inside a failure retried
    afresh (``--retry-failed``) its requests are still sent."""
    from syngen_improve.llm import fresh_answers
    from syngen_improve.llm._responses import FRESH

    with fresh_answers(False):
        assert not FRESH.get()
    with fresh_answers(), fresh_answers(False):
        assert FRESH.get()
    assert not FRESH.get()
