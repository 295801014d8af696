"""report.html: self-contained, before/after of improved examples, charts without
matplotlib; rendered by a real browser (headless Chromium) and read from its DOM."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from syngen_improve import sample_path
from syngen_improve.cli import main
from syngen_improve.report._pairs import diff_html


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("html") / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    return out


class _Page(HTMLParser):
    """What the tests look for: pairs with their before/after text, charts, fetches."""

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[dict[str, str]] = []
        self.svgs = 0
        self.fetching: list[str] = []
        self.scripts = 0
        self.csp = ""
        self._cell: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "div" and a.get("class") == "pair":
            self.pairs.append({"before": "", "after": ""})
        elif tag == "td" and a.get("class") in ("before", "after"):
            self._cell = a["class"]
        elif tag == "svg":
            self.svgs += 1
        elif tag == "script":
            self.scripts += 1
        elif tag == "meta" and a.get("http-equiv") == "Content-Security-Policy":
            self.csp = a.get("content") or ""
        for name in ("src", "href", "srcset", "data", "poster"):
            if a.get(name):
                self.fetching.append(f"{tag} {name}={a[name]}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None and self.pairs:
            self.pairs[-1][self._cell] += data


def _read(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def test_the_page_is_whole_on_its_own(demo: Path) -> None:
    page = _read((demo / "report.html").read_text("utf-8"))
    assert page.fetching == []
    assert page.scripts == 0
    assert page.csp.startswith("default-src 'none'")
    assert len(page.pairs) >= 5
    assert all(p["before"].strip() and p["after"].strip() for p in page.pairs)
    assert page.svgs >= 2  # lines by outcome, issues (no matplotlib needed)
    md = (demo / "report.md").read_text("utf-8")
    example = md.split("## Before and after (one example)", 1)[1].split("\n## ", 1)[0]
    assert "| turn 2, call 1: Result | (no Result) | {" in example  # a Result written in
    html = (demo / "report.html").read_text("utf-8")
    for heading in ("Where every input line went", "Before and after", "Failures",
                    "The KTO file", "Requests, tokens, cost"):  # fmt: skip
        assert f"<h2>{heading}</h2>" in html


def test_the_demo_is_quiet_about_the_differences_it_was_asked_to_make(demo: Path) -> None:
    """The demo fixes missing Results: has_result separates the labels on purpose. It is
    marked intended in every rendering, and the warnings name only what no fix explains,
    with what to do about it."""
    report = json.loads((demo / "report.json").read_text())
    shortcuts = report["label_shortcuts"]
    assert "has_result" in shortcuts["flagged"]
    assert shortcuts["intended"] == ["has_result"]
    assert shortcuts["features"]["has_result"]["intended_by"] == "missing_result"
    assert report["issues"]["missing_result"] > 0
    assert not any("has_result" in w for w in report["warnings"])
    for warning in (w for w in report["warnings"] if w.startswith("label shortcuts")):
        assert "--include-good" in warning
        assert "--eval-fraction" in warning
    md = (demo / "report.md").read_text("utf-8")
    assert "| has_result |" in md
    assert "intended (missing_result)" in md
    assert "intended (missing_result)" in (demo / "report.html").read_text("utf-8")


def test_judged_runs_chart_quality_before_and_after(judged: Path) -> None:
    html = (judged / "report.html").read_text("utf-8")
    assert "<h2>Quality before and after</h2>" in html
    assert 'aria-label="Mean score per dimension (1-5)"' in html
    for dim in ("sessionMemory_quality", "overall_quality"):
        assert f"{dim} before:" in html
        assert f"{dim} after:" in html


def test_a_change_is_shown_word_by_word() -> None:
    before, after = diff_html("User planning <b>next</b> week", "The user is planning next week")
    assert before == "<del>User</del> planning <del>&lt;b&gt;</del>next<del>&lt;/b&gt;</del> week"
    assert after == "<ins>The user is</ins> planning next week"


# -- in a real browser -------------------------------------------------------------------


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _render(browser: str, page: Path, profile: Path) -> str:
    proc = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
         f"--user-data-dir={profile}", "--no-first-run", "--disable-extensions",
         page.as_uri()],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.slow
def test_chromium_renders_the_demo_report_without_fetching(demo: Path, tmp_path: Path) -> None:
    """The DOM Chromium builds from report.html, opened from disk: at least 5 before/after
    pairs with text on both sides, the charts, and nothing that fetches: no element with a
    source or link, no CSS url(), and a policy that forbids any fetch. The same reading of
    a page that does fetch finds it."""
    browser = _chromium()
    if browser is None:
        pytest.skip("no Chromium here (.ci/run installs Debian's chromium)")
    dom = _render(browser, demo / "report.html", tmp_path / "profile")
    page = _read(dom)
    assert len(page.pairs) >= 5
    assert all(p["before"].strip() and p["after"].strip() for p in page.pairs)
    assert page.svgs >= 2
    assert "120 poor (sent to the model)" in dom
    assert page.fetching == []
    assert "url(" not in dom
    assert page.csp.startswith("default-src 'none'")
    leaky = tmp_path / "leaky.html"
    leaky.write_text('<html><body><img src="http://report-assets.invalid/x.png"></body></html>')
    assert _read(_render(browser, leaky, tmp_path / "profile")).fetching == [
        "img src=http://report-assets.invalid/x.png"
    ]


async def test_failures_are_grouped_by_reason_with_their_last_errors(tmp_path: Path) -> None:
    from syngen_improve import improve_dataset
    from syngen_improve.testing import FakeBackend, FakeConfig

    async with FakeBackend(FakeConfig(bad_output_rates={"broken_rules": 1.0})) as broken:
        result = await improve_dataset(sample_path(), tmp_path / "out", backend=broken,
                                       progress=False, limit=20, answers=2)  # fmt: skip
    assert result.counts.failed > 0
    html = (tmp_path / "out" / "report.html").read_text("utf-8")
    failures = html.split("<h2>Failures</h2>", 1)[1].split("<h2>", 1)[0]
    assert f'<td>invalid</td><td class="n">{result.counts.failed}</td>' in failures
    assert "<h3>invalid</h3>" in failures
    assert re.search(r"<li>line \d+: C201", failures), failures[:500]


async def test_the_sampled_pairs_of_an_openai_run_carry_the_analysis_issue_kinds(
    tmp_path: Path,
) -> None:
    """The bundled sample as OpenAI chat rows: each sampled pair on report.html is tagged
    with the issue kinds the analysis found in that line (read in its dialect), not with
    what the detectors make of the raw chat row (every one "malformed tool call")."""
    import orjson

    from syngen_improve import improve_dataset
    from syngen_improve.analyze import issue_kinds
    from syngen_improve.context import ContextConvention
    from syngen_improve.llm import DirectBackend
    from syngen_improve.testing import FakeAnthropicServer
    from tests.dialects.test_dialects import to_openai
    from tests.dialects.test_stages import write_converted

    src = write_converted(sample_path(), tmp_path / "in.jsonl", to_openai)
    out = tmp_path / "out"
    async with (
        FakeAnthropicServer() as server,
        DirectBackend(api_key="sk-t", base_url=server.url) as backend,
    ):
        await improve_dataset(src, out, backend=backend, progress=False)
    analysis = orjson.loads((out / "state" / "analysis.json").read_bytes())
    context = ContextConvention.from_dict(analysis["context"])
    text_rows = {}
    for n, line in enumerate(sample_path().read_bytes().splitlines(), 1):
        try:
            text_rows[n] = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue  # the sample's malformed line
    html = (out / "report.html").read_text("utf-8")
    shown = re.findall(r'<div class="pair" data-line="(\d+)"><h3>Input line \d+ (.*?)</h3>', html)
    assert len(shown) >= 5
    tagged = set()
    for line, tags in shown:
        found = re.findall(r'<span class="tag">([^<]*)</span>', tags)
        want = sorted(issue_kinds(text_rows[int(line)], context=context))
        assert found == [k.replace("_", " ") for k in want], line
        tagged.update(found)
    assert "malformed tool call" not in tagged  # the analysis counts none
    assert analysis["issues_structural"].get("malformed_tool_call", 0) == 0
    assert "generic tool context" in tagged
