"""The label-shortcut audit: AUCs that match a brute-force count, flags, the command."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from syngen_improve.audit import FEATURES, audit_file, audit_rows, roc_auc
from syngen_improve.cli import main
from tests.helpers import call_text, make_example


def brute_auc(good: list[float], bad: list[float]) -> float:
    wins = sum((g > b) + 0.5 * (g == b) for g in good for b in bad)
    return wins / (len(good) * len(bad))


@pytest.mark.parametrize("seed", range(8))
def test_auc_matches_counting_every_pair(seed: int) -> None:
    rng = random.Random(seed)
    good = [float(rng.randint(0, 6)) for _ in range(rng.randint(1, 40))]
    bad = [float(rng.randint(0, 6)) for _ in range(rng.randint(1, 40))]
    assert roc_auc(good, bad) == pytest.approx(brute_auc(good, bad))
    assert roc_auc([], bad) is None


def rows(n: int) -> list[dict[str, object]]:
    """Desirable rows that carry a Result:, undesirable ones that do not; same length
    otherwise, so only has_result (and the length it adds) separate them."""
    out: list[dict[str, object]] = []
    for i in range(n):
        good = make_example(user=f"Show me folder {i}")
        bad = make_example(user=f"Show me folder {i}", assistant=call_text())
        out += [{**good, "label": True}, {**bad, "label": False}]
    return out


def test_a_feature_that_alone_separates_the_labels_is_flagged() -> None:
    audit = audit_rows(rows(20))
    assert audit.desirable == audit.undesirable == 20
    assert audit.features["has_result"]["auc"] == 1.0
    assert "has_result" in audit.flagged
    assert audit.features["turns"]["auc"] == 0.5
    assert "turns" not in audit.flagged
    assert set(audit.features) == set(FEATURES)
    assert "has_result" in audit.format_text()
    with pytest.raises(ValueError, match="'threshold' must be in"):
        audit_rows([], threshold=0.4)


def test_a_difference_the_run_was_asked_to_make_is_intended_not_a_leak() -> None:
    audit = audit_rows(rows(20))
    flagged = list(audit.flagged)
    assert "has_result" in flagged
    audit.explain({"weak_goals"})  # no fix of this run writes a Result:
    assert audit.intended == []
    assert audit.leaks == flagged
    audit.explain({"missing_result", "weak_goals"})
    assert audit.intended == ["has_result"]
    assert "has_result" not in audit.leaks
    assert audit.flagged == flagged
    assert audit.features["has_result"]["intended_by"] == "missing_result"
    assert audit.to_dict()["intended"] == ["has_result"]
    text = audit.format_text()
    assert "<- intended (missing_result)" in text
    assert "warning: has_result" not in text


def test_the_audit_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "kto.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows(10)))
    assert main(["audit", str(path), "--json"]) == 1
    printed = json.loads(capsys.readouterr().out)
    assert printed == audit_file(path).to_dict()
    assert "has_result" in printed["flagged"]
    assert main(["audit", str(path), "--threshold", "1.0"]) == 1  # AUC 1.0 still counts
    balanced = tmp_path / "balanced.jsonl"
    balanced.write_text("".join(json.dumps({**r, "label": not r["label"]}) + "\n"
                                for r in rows(10)[::2]) + "".join(
        json.dumps(r) + "\n" for r in rows(10)[::2]))  # fmt: skip
    assert main(["audit", str(balanced)]) == 0
    assert main(["audit", str(tmp_path / "missing.jsonl")]) == 2


def test_the_audit_by_counts_equals_one_over_every_value(shared_data: Path) -> None:
    """The auditor keeps value counts, not every row's values: on the real slice (labelled
    by its scores), each AUC and mean equals the one computed over the full lists."""
    from bisect import bisect_left, bisect_right

    from syngen_improve import Record, read_jsonl
    from syngen_improve.audit import Surface

    items = read_jsonl(shared_data / "scored_sample.jsonl")
    rows = [i.data for i in items if isinstance(i, Record)]
    for r in rows:
        r["label"] = (r.get("quality_scores") or {}).get("overall_quality", 0) >= 3
    assert 100 < sum(r["label"] for r in rows) < len(rows) - 100
    audit = audit_rows(rows)
    for name, (_, measure) in FEATURES.items():
        good = [measure(Surface.of(r)) for r in rows if r["label"]]
        bad = sorted(measure(Surface.of(r)) for r in rows if not r["label"])
        wins = 0.0
        for value in dict.fromkeys(good):
            lo, hi = bisect_left(bad, value), bisect_right(bad, value)
            wins += good.count(value) * (lo + (hi - lo) / 2)
        assert audit.features[name]["auc"] == round(wins / (len(good) * len(bad)), 4), name
        assert audit.features[name]["mean_desirable"] == round(sum(good) / len(good), 4)
        assert audit.features[name]["mean_undesirable"] == round(sum(bad) / len(bad), 4)
