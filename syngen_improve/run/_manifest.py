"""What a folder's results were made from, so a resume cannot mix inputs or settings.

``state/manifest.json`` holds the settings that change results (model, templates, tool
schemas, relabel policy, require_result). ``state/input_lines.bin`` holds, for every
non-blank input line read so far, its line number and a fingerprint of its content (16
bytes a line). A resume checks each line against it as the input is read, so an edited,
inserted, removed or reordered line stops the run before it is used, at no extra pass
over a multi-GB file; lines appended after the last one read are new work.
"""

from __future__ import annotations

import hashlib
import os
import struct
from dataclasses import fields, is_dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import orjson

from .._jsonl import Malformed, Record, replace_bytes
from ..config import ImproveConfig
from ..context import SEVEN_FIELDS, ContextConvention
from ..errors import InputChanged, SettingsChanged, option
from ..outputs import Layout

__all__ = ["InputLines", "check_settings", "settings_of"]

_ENTRY: Final = struct.Struct("<Q8s")


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def _policy_name(policy: object) -> str:
    if is_dataclass(policy):
        values = ", ".join(f"{f.name}={getattr(policy, f.name)!r}" for f in fields(policy))
        return f"{type(policy).__qualname__}({values})"
    kind = policy if callable(policy) and not isinstance(policy, type) else type(policy)
    return f"{getattr(kind, '__module__', '?')}.{getattr(kind, '__qualname__', repr(kind))}"


def _context_id(context: ContextConvention) -> str:
    """A convention's name and a digest of all it says."""
    data = orjson.dumps(context.to_dict(), option=orjson.OPT_SORT_KEYS)
    return f"{context.name} {_digest(data)}"


def settings_of(config: ImproveConfig, model: str) -> dict[str, str]:
    """The settings that change what a run writes, as short comparable strings."""
    templates = config.prompt_templates
    text = orjson.dumps([templates.system, templates.reask, sorted(templates.issues.items())])
    schemas = orjson.dumps(config.tool_schemas.to_json_schemas(), option=orjson.OPT_SORT_KEYS)
    context = config.context
    return {
        "model": model,
        "templates": _digest(text),
        "schemas": _digest(schemas),
        "policy": _policy_name(config.policy),
        "require_result": str(config.require_result),
        **({"dedupe": "True"} if config.dedupe else {}),
        # A folder holds one shard's lines: resuming it as another would mix them.
        **({"shard": "{}/{}".format(*config.shard)} if config.shard is not None else {}),
        **({"context": _context_id(context)} if context not in (None, SEVEN_FIELDS) else {}),
    }


def check_settings(
    layout: Layout, settings: dict[str, str], *, resume: bool, accept_changes: bool
) -> list[str]:
    """Compare with the folder's manifest (a fresh run writes it). Returns the differences
    accepted with ``accept_changes``; without it a difference is :class:`SettingsChanged`."""
    old = layout.read_json(layout.manifest) if resume else None
    recorded = old.get("settings") if isinstance(old, dict) else None
    changed: list[str] = []
    if isinstance(recorded, dict) and isinstance(old, dict) and old.get("format") == 1:
        # Format 1 did not record the shard: what this run says is taken as it.
        recorded = {**recorded, "shard": settings.get("shard")}
        recorded = {k: v for k, v in recorded.items() if v is not None}
    if isinstance(recorded, dict):
        # A key set on one side only (dedupe, a context convention) differs as well.
        keys = list(settings) + [k for k in recorded if k not in settings]
        changed = [
            f"{key}: {recorded.get(key)} -> {settings.get(key)}"
            for key in keys
            if recorded.get(key) != settings.get(key)
        ]
        if not changed:
            return []
        if recorded.get("shard") != settings.get("shard"):
            raise SettingsChanged(
                f"{layout.root} holds shard {recorded.get('shard') or 'none (every line)'}, "
                f"not {settings.get('shard') or 'none (every line)'}: a folder holds one "
                "shard's lines; resume each shard in its own folder (merge them after)"
            )
        if not accept_changes:
            raise SettingsChanged(
                f"{layout.root} was made with other settings ({'; '.join(changed)}): resume "
                "with the same ones, write to a new folder, or pass "
                f"{option('--accept-changes', 'accept_changes=True')} to continue anyway (the "
                "report records it)"
            )
    manifest = {"format": 2, "settings": settings}
    replace_bytes(layout.manifest, orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return changed


class InputLines:
    """The fingerprints of the input's lines (see the module docstring); a context
    manager that appends the lines read beyond what an earlier run read."""

    def __init__(self, layout: Layout, source: Path, *, resume: bool) -> None:
        self.path = layout.input_lines
        self.source = source
        self.folder = layout.root
        # Entries an earlier run wrote (a torn last one dropped), read back one at a time.
        size = self.path.stat().st_size if resume and self.path.exists() else 0
        self._known = size // _ENTRY.size
        self._index = 0
        self._new: list[bytes] = []
        self._fh: Any = None
        self._reader: Any = None

    def __enter__(self) -> InputLines:
        whole = self._known * _ENTRY.size
        if self._known:
            self._reader = open(self.path, "rb")  # closed in __exit__
        self._fh = open(self.path, "r+b" if self.path.exists() else "wb")
        self._fh.truncate(whole)
        self._fh.seek(whole)
        return self

    def _next_known(self) -> tuple[int, bytes]:
        line, digest = _ENTRY.unpack(self._reader.read(_ENTRY.size))
        return int(line), bytes(digest)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.flush()
            self._fh.close()
        finally:
            if self._reader is not None:
                self._reader.close()

    def check(self, item: Record | Malformed, digest: bytes) -> None:
        """Raise :class:`InputChanged` unless ``item`` (its content key ``digest``) is the
        line an earlier run read at this place; remember it when it is new."""
        if self._index < self._known:
            line, known = self._next_known()
            if (line, known) != (item.line, digest):
                raise InputChanged(
                    f"line {item.line} of {self.source} is not what an earlier run read there "
                    f"into {self.folder} (a line was edited, inserted, removed or moved): "
                    "resuming would join results to the wrong lines. Use a new folder."
                )
        else:
            self._new.append(_ENTRY.pack(item.line, digest))
            if len(self._new) >= 4096:
                self.flush()
        self._index += 1

    def finish(self) -> None:
        """At the end of the input: fewer lines than an earlier run read means some were
        removed."""
        if self._index < self._known:
            line = self._next_known()[0]
            raise InputChanged(
                f"{self.source} ends before line {line}, which an earlier run read into "
                f"{self.folder}: lines were removed. Use a new folder."
            )

    def flush(self) -> None:
        if self._new and self._fh is not None:
            self._fh.write(b"".join(self._new))
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._new = []
