"""A local stand-in for the Hugging Face Hub's API, enough for ``HfApi.create_repo`` and
``upload_folder`` of small files: it creates repos, checks a dataset card's YAML as the Hub
does (configs with names, data files with a split and a path), answers every preupload
"regular" (the content comes inline in the commit) and records each commit's files.
It keeps its own rules (from the Hub's API as ``huggingface_hub`` calls it), not ours."""

from __future__ import annotations

import base64
import json
from typing import Any

import yaml
from aiohttp import web

from tests.threaded import Threaded

OID = "a" * 40


class FakeHub:
    """``with FakeHub() as hub:`` serves on ``hub.url`` from a thread of its own."""

    def __init__(self) -> None:
        self.repos: dict[str, dict[str, Any]] = {}
        self.cards: list[dict[str, Any]] = []
        self.commits: list[tuple[str, dict[str, Any], dict[str, bytes]]] = []
        self.calls: list[tuple[str, str, str | None]] = []
        self._server = Threaded(self._handle)

    @property
    def url(self) -> str:
        return self._server.url

    def __enter__(self) -> FakeHub:
        self._server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.__exit__(*exc)

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        path = request.path
        self.calls.append((request.method, path, request.headers.get("authorization")))
        if path == "/api/repos/create":
            data = json.loads(body)
            self.repos[f"{data.get('organization')}/{data['name']}"] = data
            repo = f"{data.get('organization')}/{data['name']}"
            return web.json_response({"url": f"{self.url}/datasets/{repo}"})
        if path == "/api/validate-yaml":
            return self._validate(json.loads(body)["content"])
        if "/preupload/" in path:
            files = json.loads(body)["files"]
            return web.json_response({"files": [
                {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                for f in files
            ]})  # fmt: skip
        if "/commit/" in path:
            lines = [json.loads(x) for x in body.splitlines() if x.strip()]
            header = next(x["value"] for x in lines if x["key"] == "header")
            files = {
                x["value"]["path"]: base64.b64decode(x["value"]["content"])
                for x in lines
                if x["key"] == "file"
            }
            repo = path.split("/api/datasets/", 1)[1].split("/commit/", 1)[0]
            self.commits.append((repo, header, files))
            url = f"{self.url}/datasets/{repo}/commit/{OID}"
            return web.json_response({"commitUrl": url, "commitOid": OID})
        return web.json_response({"error": f"not faked: {request.method} {path}"}, status=404)

    def _validate(self, content: str) -> web.Response:
        head = content.split("---", 2)[1] if content.startswith("---") else ""
        meta = yaml.safe_load(head) or {}
        self.cards.append(meta)
        errors = []
        for config in meta.get("configs", []):
            if not isinstance(config.get("config_name"), str):
                errors.append({"message": "a config without a config_name"})
            for entry in config.get("data_files", []):
                if not (isinstance(entry, dict) and entry.get("split") and entry.get("path")):
                    errors.append({"message": f"data_files entry {entry!r}"})
        if errors:
            return web.json_response({"errors": errors}, status=400)
        return web.json_response({"warnings": []})
