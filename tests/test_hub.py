"""The Hub dataset folder: every format a config with train and test splits that
``datasets.load_dataset`` reads as the Hub would, a card written from the report, and
the review's decisions in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from syngen_improve.cli import main
from syngen_improve.errors import OutputExists
from syngen_improve.hub import CONFIGS, write_hub_folder
from syngen_improve.review import Review


@pytest.fixture
def folder(sample_run: Path) -> Path:
    return sample_run


def test_the_hub_folder_loads_every_config_with_its_splits(folder: Path, tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    hub = tmp_path / "hub"
    kto = str(folder / "improved_interleaved.jsonl")
    assert main(["export", kto, "--hub-folder", str(hub)]) == 0
    for config in CONFIGS:
        loaded = datasets.load_dataset(str(hub), config)
        assert set(loaded) == {"train", "test"}
        rows = len(loaded["train"]) + len(loaded["test"])
        expected = 120 if config == "sft" else 240
        assert rows == expected, config
        assert 0 < len(loaded["test"]) < len(loaded["train"])
    kto_rows = datasets.load_dataset(str(hub), "kto")["train"]
    assert {"prompt", "completion", "label", "tools"} <= set(kto_rows.column_names)
    card = (hub / "README.md").read_text()
    assert card.startswith("---\nconfigs:\n")
    assert "model: `claude-haiku-5-5`" in card
    assert "improved 120, failed 0" in card
    assert "label shortcuts: intended has_result" in card
    with pytest.raises(OutputExists):
        write_hub_folder(kto, hub)
    assert main(["export", kto, "--hub-folder", str(tmp_path / "x"), "--format", "kto"]) == 2


def test_the_reviews_decisions_reach_the_hub_folder(folder: Path, tmp_path: Path) -> None:
    import orjson

    lines = (folder / "improved_examples.jsonl").read_bytes().splitlines()
    improved = [orjson.loads(x) for x in lines]
    Review(folder).decide([r["_source_key"] for r in improved[:10]], "reject")
    done = write_hub_folder(folder / "improved_interleaved.jsonl", tmp_path / "hub")
    assert done.configs["sft"].written == 110
    assert done.configs["kto"].reviewed == 10
    card = (tmp_path / "hub" / "README.md").read_text()
    assert "human review: accept 0, reject 10, edit 0" in card


def test_the_push_goes_through_huggingface_hub_in_one_commit(
    folder: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``export --push-to-hub`` against a local endpoint: the repo created private, the
    card's YAML checked, one commit with the card and every config's splits, the token
    only in the Authorization header (never printed)."""
    pytest.importorskip("huggingface_hub")
    from tests.hub_fake import FakeHub

    secret = "hf_" + "x1y2z3" * 6
    with FakeHub() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setenv("HF_TOKEN", secret)
        monkeypatch.setattr("huggingface_hub.constants.ENDPOINT", hub.url)
        kto = str(folder / "improved_interleaved.jsonl")
        assert main(["export", kto, "--push-to-hub", "me/improved", "--private"]) == 0
        url = capsys.readouterr().out
    assert hub.repos["me/improved"]["visibility"] == "private"
    assert [c["config_name"] for c in hub.cards[0]["configs"]] == list(CONFIGS)
    [(repo, _, files)] = hub.commits
    assert repo == "me/improved"
    expected = {"README.md"} | {f"{c}/{s}.jsonl" for c in CONFIGS for s in ("train", "test")}
    assert set(files) == expected
    assert files["README.md"].startswith(b"---\nconfigs:")
    written = tmp_path / "local"
    write_hub_folder(kto, written)
    assert files["kto/train.jsonl"] == (written / "kto" / "train.jsonl").read_bytes()
    assert {auth for _, _, auth in hub.calls} <= {f"Bearer {secret}", None}
    assert all(auth for _, path, auth in hub.calls if "/commit/" in path or "create" in path)
    assert secret not in url
    assert "pushed to the Hub: " in url


def test_a_refused_push_says_so_without_the_token(folder: Path, tmp_path: Path) -> None:
    pytest.importorskip("huggingface_hub")
    from syngen_improve.errors import ServiceRefused
    from syngen_improve.hub import push_to_hub
    from tests.hub_fake import FakeHub

    done = write_hub_folder(folder / "improved_interleaved.jsonl", tmp_path / "hub")
    (done.path / "README.md").write_text("---\nconfigs:\n- data_files: [{split: train}]\n---\n")
    secret = "hf_" + "q9w8e7" * 6
    with FakeHub() as hub, pytest.raises(ServiceRefused) as caught:
        push_to_hub(done.path, "me/bad", token=secret, endpoint=hub.url)
    assert "the Hub refused the push" in str(caught.value)
    assert secret not in str(caught.value)
    assert hub.commits == []
