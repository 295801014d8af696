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
