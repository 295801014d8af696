"""Your own dataset: your tools, your file format, your context convention (or none).

A CRM assistant's examples in OpenAI chat form, each row carrying its own ``tools`` and no
seven-field ``context``: analyze detects the dialect and the convention ("none"), validate
checks the calls against the rows' own tools (no schema file), improve rewrites the poor
ones and writes them back in OpenAI form, and the SFT export keeps native ``tool_calls``.
Then the same data with a ``trace`` object in every call, described in a small TOML file:
its rules are checked and its fields are part of the prompt. See docs/own-dataset.md.

    python examples/own_tools.py   # the API with ANTHROPIC_API_KEY; offline (the fake) without
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from syngen_improve import analyze_dataset, improve_dataset_sync, validate_file
from syngen_improve.export import export_file

# With ANTHROPIC_API_KEY set: the API (or the server at ANTHROPIC_BASE_URL); without one,
# the built-in fake model answers, offline, so the example runs anywhere.
BACKEND = None if os.environ.get("ANTHROPIC_API_KEY") else "fake"

# Your tools, as an OpenAI `tools` list (a row may carry them; --schemas takes a file too).
TOOLS = [
    {"type": "function", "function": {
        "name": "crm_findContact", "description": "Find a contact by name or company.",
        "parameters": {"type": "object", "properties": {
            "query": {"type": "string"}, "limit": {"type": "integer"}}, "required": ["query"]}}},
    {"type": "function", "function": {
        "name": "crm_logCall", "description": "Log a call with a contact.",
        "parameters": {"type": "object", "properties": {
            "contactId": {"type": "string"}, "notes": {"type": "string"}},
            "required": ["contactId", "notes"]}}},
]  # fmt: skip


def row(ask: str, tool: str, args: dict[str, Any], result: Any, label: bool) -> dict[str, Any]:
    """One example in OpenAI chat form."""
    call = {"id": "call_1", "type": "function",
            "function": {"name": tool, "arguments": json.dumps(args)}}  # fmt: skip
    return {"messages": [
        {"role": "user", "content": ask},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": json.dumps(result)},
        {"role": "assistant", "content": "Done."},
    ], "tools": TOOLS, "label": label}  # fmt: skip


ROWS = [
    row("Who is our contact at Acme again?", "crm_findContact", {"query": "Acme", "limit": 1},
        {"contacts": [{"id": "c_881", "name": "Dana Ortiz", "role": "Head of Ops"}]}, True),
    row("crm_findContact query=Globex", "crm_findContact", {"query": "Globex"},
        {"success": True}, False),  # a command, not a request; a bare result: poor
    row("Log that I called Dana about the renewal", "crm_logCall", {"contactId": "c_881"},
        {"success": True}, False),  # a required parameter is missing: poor
]  # fmt: skip

with tempfile.TemporaryDirectory() as tmp:
    data = Path(tmp) / "crm.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in ROWS))

    profile = analyze_dataset(data)
    print(f"dialect {profile.dialect}, context convention {profile.context}: "
          f"{profile.poor} poor of {profile.total}")  # fmt: skip
    before = validate_file(data, profile="strict")  # the rows' own tools are the schemas
    print("before:", before.summary(), dict(before.by_code))

    result = improve_dataset_sync(data, Path(tmp) / "out", progress=False, backend=BACKEND)
    print(result)
    improved = Path(tmp) / "out" / "improved_examples.jsonl"
    after = validate_file(improved, profile="strict")
    print("after:", after.summary())
    first = json.loads(improved.read_text().splitlines()[0])
    print("written back with", sorted(k for k in first if not k.startswith("_")))

    sft = Path(tmp) / "sft.jsonl"
    export_file(improved, sft, fmt="sft")
    messages = json.loads(sft.read_text().splitlines()[0])["messages"]
    print("sft roles:", [m["role"] for m in messages])

    # The same calls with a convention of your own: a `trace` object first in the arguments.
    convention = Path(tmp) / "trace.toml"
    convention.write_text(
        'name = "trace"\nkey = "trace"\nfields = ["traceId", "reason"]\n'
        '[patterns]\ntraceId = "tr_[0-9a-f]{8}"\n'
        '[descriptions]\nreason = "why this call, in one sentence"\n'
    )
    traced = Path(tmp) / "traced.jsonl"
    with traced.open("w") as out:
        for n, r in enumerate(ROWS):
            for call in r["messages"][1]["tool_calls"]:
                args = json.loads(call["function"]["arguments"])
                trace = {"traceId": f"tr_0000000{n}", "reason": "the user asked"} if n else {}
                call["function"]["arguments"] = json.dumps({"trace": trace, **args})
            out.write(json.dumps(r) + "\n")
    checked = validate_file(traced, context=convention)
    print("trace convention:", checked.summary(), dict(checked.by_code))
