"""The docs that are generated or checked against the code cannot drift."""

from __future__ import annotations

from pathlib import Path

from syngen_improve.cli import reference_markdown

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_cli_reference_is_current() -> None:
    expected = reference_markdown()
    assert (DOCS / "cli.md").read_text() == expected, (
        'docs/cli.md is stale: python -c "from syngen_improve.cli import reference_markdown '
        "as r; print(r(), end='')\" > docs/cli.md"
    )


def test_every_doc_page_is_in_the_site_nav() -> None:
    nav = (DOCS.parent / "mkdocs.yml").read_text()
    for page in DOCS.glob("*.md"):
        assert f" {page.name}" in nav, page.name


def test_the_own_dataset_guide_shows_one_example_in_four_dialects(tmp_path: Path) -> None:
    """Its JSON rows are real rows: each in the dialect it is shown as, all the same
    conversation; its convention file loads and finds what it describes."""
    import json
    import re

    from syngen_improve import validate_file
    from syngen_improve.context import load_convention
    from syngen_improve.dialects import detect_dialect, read_conversation

    text = (DOCS / "own-dataset.md").read_text()
    rows = [json.loads(b) for b in re.findall(r"```json\n(.*?)\n```", text, re.DOTALL)]
    assert [detect_dialect(r) for r in rows] == ["text", "openai", "sharegpt", "hermes"]
    conversations = [read_conversation(r) for r in rows]
    assert all(c == conversations[0] for c in conversations)
    assert conversations[0].calls[0].name == "crm_findContact"
    toml = re.search(r"```toml\n(.*?)\n```", text, re.DOTALL)
    assert toml is not None
    (tmp_path / "trace.toml").write_text(toml.group(1))
    convention = load_convention(tmp_path / "trace.toml")
    assert (convention.name, convention.fields) == ("trace", ("traceId", "reason"))
    data = tmp_path / "crm.jsonl"
    data.write_text(json.dumps(rows[1]) + "\n")
    assert validate_file(data, context=convention).by_code["C201"] == 1  # no trace object
    assert validate_file(data).context.name == "none"
