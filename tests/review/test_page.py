"""The review page in a real browser (Debian's headless Chromium, driven by Playwright) over
a 3,000-row folder: filter, search, reject a selection, edit one improvement (an invalid
edit refused with the gate's message), apply; then the export and a resumed run keep the
decisions. And the page's API without a browser: the token, paging, the edit's errors."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from syngen_improve._lock import FolderLock
from syngen_improve.cli import main
from syngen_improve.review import Decisions, ReviewServer
from tests.conftest import REAL_DATA

ROWS = 3000


def rows(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(x) for x in path.read_bytes().splitlines() if x.strip()]


@pytest.fixture(scope="module")
def input_3000(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real 900-line slice repeated to 3,000 rows, each with its own ``_index``."""
    lines = (REAL_DATA / "scored_sample.jsonl").read_bytes().splitlines()
    out = tmp_path_factory.mktemp("review") / "in.jsonl"
    with open(out, "wb") as fh:
        for i in range(ROWS):
            raw = lines[i % len(lines)]
            try:
                row = orjson.loads(raw)
            except orjson.JSONDecodeError:
                fh.write(raw + b"\n")
                continue
            fh.write(orjson.dumps({**row, "_index": i}) + b"\n")
    return out


@pytest.fixture
def folder(input_3000: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    assert main(["improve", str(input_3000), "--out", str(out), "--backend", "fake",
                 "--no-progress"]) in (0, 1)  # fmt: skip
    return out


def longest_run(labels: list[bool]) -> int:
    best = run = 0
    for i, label in enumerate(labels):
        run = run + 1 if i and label == labels[i - 1] else 1
        best = max(best, run)
    return best


def _browser() -> tuple[Any, str]:
    playwright = pytest.importorskip("playwright.async_api")
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return playwright, found
    pytest.skip("no Chromium here (.ci/run installs Debian's chromium)")


@pytest.mark.timeout(240)
async def test_a_review_in_the_browser_reaches_the_export_and_survives_a_resume(
    folder: Path, input_3000: Path, tmp_path: Path
) -> None:
    playwright, chromium = _browser()
    async with ReviewServer(folder) as server, playwright.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        await page.goto(server.url)
        await page.wait_for_selector("body[data-ready='1']")
        everything = await page.text_content("#total")

        async def total_changes(before: str | None) -> int:
            await page.wait_for_function(
                "b => document.querySelector('#total').textContent !== b", arg=before
            )
            return int((await page.text_content("#total") or "0").split()[0])

        await page.select_option("#issue", "weak_goals")
        by_issue = await total_changes(everything)
        await page.fill("#q", "vaultManager")
        await page.press("#q", "Enter")
        searched = await total_changes(f"{by_issue} rows")
        assert 0 < searched < by_issue < ROWS
        await page.screenshot(path=str(tmp_path / "filtered.png"))
        await page.click("#bulk-reject")
        await page.wait_for_function(
            "n => document.querySelector('#decided').textContent.includes(n + ' rejected')",
            arg=searched,
        )

        await page.select_option("#issue", "")
        await page.fill("#q", "")
        await page.select_option("#decision", "undecided")
        await page.select_option("#kind", "improved")
        await total_changes(f"{searched} rows")
        await page.click("tr.row >> nth=0")
        await page.click("#edit")
        assistant = page.locator("textarea.turn[data-role='assistant']").first
        text = await assistant.input_value()
        await assistant.fill("Sure, all done.")  # the tool call is gone: refused
        await page.click("#save")
        await page.wait_for_function("() => document.querySelector('#edit-error').textContent")
        refused = await page.text_content("#edit-error")
        assert "the tool calls must stay the same" in (refused or "")
        await assistant.fill("Checked by a reviewer.\n\n" + text)
        await page.click("#save")
        await page.wait_for_function(
            "() => document.querySelector('#decided').textContent.includes('1 edited')"
        )
        await page.screenshot(path=str(tmp_path / "edited.png"))
        await page.click("#apply")
        await page.wait_for_function(
            "() => document.querySelector('#status').textContent.startsWith('applied')"
        )
        await browser.close()
    assert errors == []
    assert {u.split("/")[2] for u in requests} == {f"127.0.0.1:{server.port}"}  # nothing else

    decisions = Decisions.load(folder / "review.jsonl")
    assert decisions.counts() == {"accept": 0, "reject": searched, "edit": 1}
    rejected = set(decisions.keys("reject"))
    [edited] = decisions.keys("edit")

    def check_export() -> None:
        out = tmp_path / "kto.jsonl"
        out.unlink(missing_ok=True)
        kto = folder / "improved_interleaved.jsonl"
        assert main(["export", str(kto), "--format", "kto", "--out", str(out)]) == 0
        exported = rows(out)
        source = rows(kto)
        assert len(exported) == len(source)
        good = [r["_source_key"] for r in source if r["label"]]
        assert not rejected & set(good)
        assert rejected <= {r["_source_key"] for r in source if not r["label"]}
        [mine] = [e for e, r in zip(exported, source, strict=True)
                  if r["label"] and r["_source_key"] == edited]  # fmt: skip
        assert "Checked by a reviewer." in str(mine["completion"])
        assert longest_run([r["label"] for r in exported]) <= 2

    check_export()
    args = ["improve", str(input_3000), "--out", str(folder), "--backend", "fake"]
    assert await asyncio.to_thread(main, [*args, "--resume", "--no-progress"]) in (0, 1)
    assert Decisions.load(folder / "review.jsonl").counts()["reject"] == searched
    check_export()


async def test_the_api_guards_its_changes_and_pages_by_offset(folder: Path) -> None:
    async with ReviewServer(folder) as server, aiohttp.ClientSession() as http:
        url = server.url
        async with http.get(url + "api/rows?page=3&size=7") as resp:
            page = await resp.json()
        assert len(page["rows"]) == 7
        assert page["total"] == server.index.total
        lines = [r["line"] for r in page["rows"]]
        assert lines == sorted(lines)
        async with http.get(url + "api/rows?page=2&size=7") as resp:
            before = (await resp.json())["rows"]
        assert before[-1]["line"] < lines[0]
        key = page["rows"][0]["key"]
        body = {"keys": [key], "decision": "reject"}
        async with http.post(url + "api/decide", json=body) as resp:
            assert resp.status == 403  # no token: another site cannot decide
        headers = {"X-Review-Token": server.token}
        async with http.post(url + "api/decide", json=body, headers=headers) as resp:
            assert (await resp.json())["decided"] == 1
        async with http.get(url + "api/rows?decision=reject") as resp:
            assert [r["key"] for r in (await resp.json())["rows"]] == [key]
        line = page["rows"][1]["line"]
        async with http.get(url + f"api/row/{line}") as resp:
            detail = await resp.json()
        turns = [{**t, "content": "ok"} if t["role"] == "user" else t for t in detail["improved"]]
        turns[-1]["content"] = "Done."
        edit = {"line": line, "turns": turns}
        async with http.post(url + "api/edit", json=edit, headers=headers) as resp:
            assert resp.status == 422
            refused = await resp.json()
        assert refused["errors"]
        for junk in ([{"role": 5}], [1, 2], [{"role": "user"}]):  # a hand-made request
            async with http.post(
                url + "api/edit", json={"line": line, "turns": junk}, headers=headers
            ) as resp:
                assert resp.status in (400, 422), junk
        async with http.get(url + "api/row/999999") as resp:
            assert resp.status == 404
        layout = server.review.layout
        with FolderLock(layout.lock, folder=layout.root):  # a run writing the folder
            async with http.post(url + "api/apply", headers=headers) as resp:
                assert resp.status == 409
                assert "in use by another run" in (await resp.json())["error"]
        async with http.post(url + "api/apply", headers=headers) as resp:
            applied = await resp.json()
        assert applied["review"] == {"accept": 0, "reject": 1, "edit": 0}


async def test_a_failure_shows_its_reason_errors_and_last_answer(tmp_path: Path) -> None:
    """Failures are rows too: found by their rejection reason, shown with the gate's last
    errors and the model's last answer (kept in failed.jsonl)."""
    from syngen_improve import improve_dataset, sample_path
    from syngen_improve.testing import FakeBackend, FakeConfig

    out = tmp_path / "out"
    async with FakeBackend(FakeConfig(bad_output_rates={"broken_rules": 1.0})) as broken:
        result = await improve_dataset(
            sample_path(), out, backend=broken, progress=False, limit=20, answers=2
        )
    assert result.counts.failed > 0
    failed = rows(out / "failed.jsonl")
    assert all(r["last_answer"] for r in failed)
    async with ReviewServer(out) as server, aiohttp.ClientSession() as http:
        async with http.get(server.url + "api/rows?kind=failed&reason=invalid") as resp:
            listed = await resp.json()
        assert listed["total"] == result.counts.failed
        line = listed["rows"][0]["line"]
        async with http.get(server.url + f"api/row/{line}") as resp:
            detail = await resp.json()
    assert detail["failure"]["reason"] == "invalid"
    assert detail["failure"]["errors"]
    mine = next(r for r in failed if r["_source_line"] == line)
    assert detail["failure"]["last_answer"] == mine["last_answer"]
    assert "conversations" in mine["last_answer"] or "turns" in mine["last_answer"]
    assert detail["original"]  # the input row's turns
