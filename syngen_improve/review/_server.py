"""The review page's server: aiohttp on 127.0.0.1, the page (no external asset) and a
small JSON API over the folder's index, its rows (read by offset) and its decisions.

Every request that changes something carries the page's token (``X-Review-Token``), so
another site open in the same browser cannot post decisions to it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import webbrowser
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

import orjson
from aiohttp import web

from ..errors import FolderBusy
from ..report._pairs import changes, diff_html
from ._folder import EditRefused, Review
from ._index import Filters, Index
from ._page import page_html

__all__ = ["ReviewServer", "serve_review"]

#: Rows a page shows, at most.
MAX_PAGE: Final = 200
_TOKEN: Final = "X-Review-Token"


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def _read(path: Path, offset: int | None) -> dict[str, Any] | None:
    """The row whose line starts at ``offset`` of ``path``."""
    if offset is None or not path.exists():
        return None
    with open(path, "rb") as fh:
        fh.seek(offset)
        row = orjson.loads(fh.readline())
    return row if isinstance(row, dict) else None


class ReviewServer:
    """The review of ``folder`` served on 127.0.0.1:``port`` (0: a free port); an async
    context manager whose ``url`` is the page's address."""

    def __init__(self, folder: str | os.PathLike[str], *, port: int = 0) -> None:
        self.review = Review(folder)
        self.port = port
        self.token = secrets.token_urlsafe(16)
        self.index = Index(self.review.layout, self.review.decisions)
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> ReviewServer:
        await asyncio.to_thread(self.index.open)
        app = web.Application(client_max_size=16 << 20)
        app.router.add_get("/", self._page)
        app.router.add_get("/api/summary", self._summary)
        app.router.add_get("/api/rows", self._rows)
        app.router.add_get("/api/row/{line}", self._row)
        app.router.add_post("/api/decide", self._decide)
        app.router.add_post("/api/edit", self._edit)
        app.router.add_post("/api/apply", self._apply)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self.url = f"http://127.0.0.1:{self.port}/"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        self.index.db.close()

    # -- pages -----------------------------------------------------------------------

    async def _page(self, request: web.Request) -> web.Response:
        html = page_html(self.review.layout.root.name, self.token)
        return web.Response(
            text=html,
            content_type="text/html",
            headers={
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                "script-src 'unsafe-inline'; connect-src 'self'",
                "Cache-Control": "no-store",
            },
        )

    async def _summary(self, request: web.Request) -> web.Response:
        report = self.review.layout.read_json(self.review.layout.report_json) or {}
        return _json(
            {
                "folder": str(self.review.layout.root),
                "rows": self.index.total,
                "choices": self.index.choices(),
                "decisions": self.review.decisions.counts(),
                "rejections": report.get("rejections", {}),
                "failed_reasons": report.get("failed_reasons", {}),
            }
        )

    def _query(self, query: Mapping[str, str]) -> Filters:
        self.index.search(query.get("q", "").strip())
        return Filters.of(query)

    async def _rows(self, request: web.Request) -> web.Response:
        q = request.query
        try:
            page = max(1, int(q.get("page", "1")))
            size = min(MAX_PAGE, max(1, int(q.get("size", "50"))))
        except ValueError:
            return _json({"error": "page and size are whole numbers"}, 400)
        filters = self._query(q)
        total = self.index.count(filters)
        rows = self.index.page(filters, page, size)
        return _json({"total": total, "page": page, "size": size, "rows": rows})

    async def _row(self, request: web.Request) -> web.Response:
        try:
            line = int(request.match_info["line"])
        except ValueError:
            return _json({"error": "no such line"}, 404)
        entry = self.index.offsets(line)
        if entry is None:
            return _json({"error": f"input line {line} is not in this folder"}, 404)
        return _json(self._detail(entry))

    def _detail(self, entry: dict[str, Any]) -> dict[str, Any]:
        layout = self.review.layout
        improved = _read(layout.improved, entry["improved"])
        original = _read(layout.poor, entry["original"])
        failed = _read(layout.failed, entry["failed"])
        edited = self.review.decisions.edited(entry["key"]) if entry["key"] else None
        shown = edited or improved
        out: dict[str, Any] = {
            "line": entry["line"],
            "key": entry["key"],
            "kind": entry["kind"],
            "decision": entry["decision"],
            "issues": [v for v in (entry["issues"] or "").split(",") if v],
            "reasons": [v for v in (entry["reasons"] or "").split(",") if v],
            "delta": entry["delta"],
            "dialect": entry["dialect"],
            "original": Review.turns(original) if original else None,
            "improved": Review.turns(shown) if shown else None,
        }
        if original and shown and entry["kind"] == "improved":
            key = self.review.context.key or "context"
            out["changes"] = [
                {"where": c.where, "what": c.what, "diff": diff_html(c.before, c.after)}
                for c in changes(original, shown, key)
            ]
        if failed:
            source = failed.get("original")
            out["original"] = Review.turns(source) if isinstance(source, dict) else None
            out["failure"] = {
                "reason": failed.get("reason"),
                "attempts": failed.get("attempts"),
                "errors": failed.get("errors", []),
                "last_answer": failed.get("last_answer"),
            }
        return out

    # -- decisions -------------------------------------------------------------------

    def _allowed(self, request: web.Request) -> bool:
        return secrets.compare_digest(request.headers.get(_TOKEN, ""), self.token)

    async def _body(self, request: web.Request) -> dict[str, Any] | web.Response:
        if not self._allowed(request):
            return _json({"error": "this page's token is missing: reload the page"}, 403)
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return _json({"error": "the body is not JSON"}, 400)
        if not isinstance(body, dict):
            return _json({"error": "the body is not an object"}, 400)
        return body

    async def _decide(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        decision = body.get("decision")
        if decision not in ("accept", "reject"):
            return _json({"error": "decision must be accept or reject"}, 400)
        note = body.get("note") or None
        keys: dict[str, int | None]
        if isinstance(body.get("keys"), list):
            keys = {str(k): None for k in body["keys"]}
        else:  # every row the filters (and search) select
            keys = dict(self.index.keys(self._query(body.get("filters") or {})))
        done = self.review.decide(keys, decision, note=note)
        self.index.sync_decisions(list(keys))
        return _json({"decided": done, "decisions": self.review.decisions.counts()})

    async def _edit(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        entry = self.index.offsets(int(body.get("line", -1)))
        turns = body.get("turns")
        if entry is None or entry["kind"] != "improved" or not isinstance(turns, list):
            return _json({"error": "an edit names an improved row and its turns"}, 400)
        layout = self.review.layout
        try:
            self.review.edit(
                entry["key"],
                turns,
                note=body.get("note") or None,
                original=_read(layout.poor, entry["original"]),
                improved=_read(layout.improved, entry["improved"]),
            )
        except EditRefused as exc:
            return _json({"error": str(exc), "reason": exc.reason, "errors": exc.errors}, 422)
        self.index.sync_decisions([entry["key"]])
        return _json({"decisions": self.review.decisions.counts()})

    async def _apply(self, request: web.Request) -> web.Response:
        if not self._allowed(request):
            return _json({"error": "this page's token is missing: reload the page"}, 403)
        try:
            report = await asyncio.to_thread(self.review.apply)
        except FolderBusy as exc:  # a run is writing the folder: its end applies them
            return _json({"error": str(exc)}, 409)
        il = report.interleaving
        return _json(
            {
                "review": report.review,
                "kto": None if il is None else {"rows": il.rows, "longest_run": il.longest_run},
            }
        )


async def serve_review(
    folder: str | os.PathLike[str],
    *,
    port: int = 0,
    open_browser: bool = False,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the review page of ``folder`` until cancelled (``on_ready`` gets its URL;
    ``open_browser`` opens it in the default browser)."""
    async with ReviewServer(folder, port=port) as server:
        if on_ready is not None:
            on_ready(server.url)
        if open_browser:
            webbrowser.open(server.url)
        await asyncio.Event().wait()
