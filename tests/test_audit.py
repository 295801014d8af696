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
