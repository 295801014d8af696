"""Review decisions reach the training files: a rejected improvement leaves the KTO file
(its original stays, unpaired), an edit passes the acceptance gate first and is exported
as edited, the order keeps its guarantees, and a resumed run keeps the decisions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from syngen_improve import sample_path
from syngen_improve.cli import main
from syngen_improve.export import export_file
from syngen_improve.interleave import verify_interleaving
from syngen_improve.review import Decisions, EditRefused, Review, reviewed_copy


def rows(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(x) for x in path.read_bytes().splitlines() if x.strip()]


@pytest.fixture
def folder(sample_run: Path) -> Path:
    return sample_run


def keys_of(path: Path, label: bool) -> list[str]:
    return [r["_source_key"] for r in rows(path) if r.get("label") is label]


def test_rejected_and_edited_improvements_reach_the_kto_file_and_the_export(
    folder: Path, tmp_path: Path
) -> None:
    review = Review(folder)
    improved = rows(folder / "improved_examples.jsonl")
    rejected = [r["_source_key"] for r in improved[:5]]
    assert review.decide(rejected, "reject", note="too long") == 5
    target = improved[7]
    turns = Review.turns(target)
    turns[1]["content"] = "Now then.\n\n" + turns[1]["content"]
    edited = review.edit(target["_source_key"], turns, note="tone")
    assert edited["conversations"][1]["content"].startswith("Now then.")

    # Before apply(): export re-arranges the folder's KTO file itself.
    early = tmp_path / "early.jsonl"
    stats = export_file(folder / "improved_interleaved.jsonl", early, fmt="kto")
    assert stats.reviewed == 6

    report = review.apply()
    assert report.review == {"accept": 0, "reject": 5, "edit": 1}
    kto = folder / "improved_interleaved.jsonl"
    good, bad = keys_of(kto, True), keys_of(kto, False)
    assert not set(rejected) & set(good)
    assert set(rejected) <= set(bad)  # the originals stay, unpaired
    assert len(good) == len(improved) - 5
    [mine] = [r for r in rows(kto) if r["_source_key"] == target["_source_key"] and r["label"]]
    assert mine["conversations"][1]["content"].startswith("Now then.")
    check = verify_interleaving(kto, batch_size=8, prompt_gap=8)
    assert check.longest_run <= 2
    assert report.interleaving is not None
    assert report.interleaving.desirable == len(good)

    out = tmp_path / "kto.jsonl"
    assert export_file(kto, out, fmt="kto").reviewed == 0  # the file already holds them
    exported = rows(out)
    assert exported == rows(early)
    texts = [r["completion"] for r in exported if r["label"]]
    assert sum("Now then." in str(t) for t in texts) == 1
    assert len(texts) == len(good)
    unreviewed = tmp_path / "unreviewed.jsonl"
    with reviewed_copy(folder / "improved_examples.jsonl", False) as (plain, changed):
        assert changed == 0
        assert export_file(plain, unreviewed, fmt="sft").reviewed == 0
    assert len(rows(unreviewed)) == len(improved)  # every improvement, as the run wrote it
    sft = tmp_path / "sft.jsonl"
    assert export_file(folder / "improved_examples.jsonl", sft, fmt="sft").reviewed == 6
    assert len(rows(sft)) == len(improved) - 5


def test_an_invalid_edit_is_refused_with_the_gates_message(folder: Path) -> None:
    review = Review(folder)
    target = rows(folder / "improved_examples.jsonl")[1]
    turns = Review.turns(target)
    turns[1]["content"] = "Sure, done."  # the tool call is gone
    with pytest.raises(EditRefused, match="tool calls must stay the same") as caught:
        review.edit(target["_source_key"], turns)
    assert caught.value.reason == "tools_changed"
    assert len(Decisions.load(folder / "review.jsonl")) == 0
    original = Review.turns(next(r for r in rows(folder / "poor_examples.jsonl")
                                 if r["_source_key"] == target["_source_key"]))  # fmt: skip
    with pytest.raises(EditRefused, match="unchanged"):
        review.edit(target["_source_key"], original)


def test_a_resumed_run_and_a_merge_keep_the_decisions(folder: Path, tmp_path: Path) -> None:
    review = Review(folder)
    rejected = [r["_source_key"] for r in rows(folder / "improved_examples.jsonl")[:3]]
    review.decide(rejected, "reject")
    review.decide(rejected[:1], "accept")  # the last decision holds
    args = ["improve", str(sample_path()), "--out", str(folder), "--backend", "fake"]
    assert main([*args, "--resume", "--no-progress"]) == 0
    good = keys_of(folder / "improved_interleaved.jsonl", True)
    assert rejected[0] in good
    assert not set(rejected[1:]) & set(good)
    report = orjson.loads((folder / "report.json").read_bytes())
    assert report["review"] == {"accept": 1, "reject": 2, "edit": 0}


def test_the_log_keeps_every_decision_and_names_a_damaged_line(tmp_path: Path) -> None:
    log = tmp_path / "review.jsonl"
    decisions = Decisions.load(log)
    assert len(decisions) == 0
    assert not decisions.changes_training
    from syngen_improve.review import Decision

    decisions.append([Decision("a1", "reject", line=3), Decision("b2", "accept")])
    decisions.append([Decision("a1", "accept", note="on second thought")])
    again = Decisions.load(log)
    assert (again.get("a1"), again.get("b2"), again.get("c3")) == ("accept", "accept", None)
    assert len(log.read_bytes().splitlines()) == 3  # appended, never rewritten
    with open(log, "ab") as fh:
        fh.write(b'{"key": "c3", "decision": "rej')  # an append cut short
    assert Decisions.load(log).get("c3") is None
    log.write_bytes(log.read_bytes() + b'ect"}\nnot json\n')
    with pytest.raises(Exception, match=r"review\.jsonl, line 5: not a decision"):
        Decisions.load(log)
    with pytest.raises(Exception, match="one of"):
        Decision("x", "maybe")  # type: ignore[arg-type]


def test_the_commands_take_the_folders_review_another_or_none(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from syngen_improve.review import Decision

    improved = rows(folder / "improved_examples.jsonl")
    rejected = [r["_source_key"] for r in improved[:3]]
    Review(folder).decide(rejected, "reject")
    other = tmp_path / "other.jsonl"
    Decisions(other).append([Decision(improved[10]["_source_key"], "reject")])
    kto = str(folder / "improved_interleaved.jsonl")

    def exported(*flags: str) -> int:
        """How many desirable rows the export holds."""
        out = tmp_path / "x.jsonl"
        out.unlink(missing_ok=True)
        assert main(["export", kto, "--format", "kto", "--out", str(out), *flags]) == 0
        return sum(1 for r in rows(out) if r["label"])

    everything = exported("--no-review")
    assert everything == len(improved)
    capsys.readouterr()
    assert exported() == everything - 3
    assert "3 rows as the review left them" in capsys.readouterr().out
    assert exported("--review", str(other)) == everything - 1
    assert main(["export", kto, "--format", "kto", "--out", str(tmp_path / "y.jsonl"),
                 "--review", str(tmp_path / "missing.jsonl")]) == 2  # fmt: skip
    out = tmp_path / "kto.jsonl"
    args = ["interleave", "--desirable", str(folder / "improved_examples.jsonl"),
            "--undesirable", str(folder / "poor_examples.jsonl"), "--out", str(out),
            "--policy", "kto"]  # fmt: skip
    assert main(args) == 0
    assert not set(rejected) & set(keys_of(out, True))
    assert set(rejected) <= set(keys_of(out, False))
