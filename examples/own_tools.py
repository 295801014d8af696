"""A dataset with a different tool set: schemas from an OpenAI (or MCP) tools list.

The validator and the prompt use your schemas instead of the bundled 47 tools.

    python examples/own_tools.py               # uses ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from syngen_improve import ToolRegistry, improve_dataset_sync, validate_file

# Your tools, as an OpenAI `tools` list (ToolRegistry.from_mcp takes an MCP tools/list).
OPENAI_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "crmManager_findContact",
            "description": "Find a contact by name or email.",
            "parameters": {
                "type": "object",
                "properties": {"query": {"type": "string"}, "limit": {"type": "integer"}},
                "required": ["query"],
            },
        },
    }
]
CONTEXT = {
    "sessionId": "session_1731398400000_a1b2c3d4e",
    "workspaceId": "ws_1731398400000_f5g6h7i8j",
    "sessionDescription": "Preparing the Acme renewal call",
    "sessionMemory": "",
    "toolContext": "find contact",
    "primaryGoal": "Prepare the Acme renewal call",
    "subgoal": "Find the Acme contact",
}
EXAMPLE = {
    "conversations": [
        {"role": "user", "content": "Who is our contact at Acme again?"},
        {"role": "assistant", "content": "tool_call: crmManager_findContact\narguments: "
         + json.dumps({"context": CONTEXT, "query": "Acme"})},
    ],
    "label": True,
    "quality_scores": {"overall_quality": 2.2, "sessionMemory_quality": 1},
}  # fmt: skip

registry = ToolRegistry.from_openai_tools(OPENAI_TOOLS)
with tempfile.TemporaryDirectory() as tmp:
    data = Path(tmp) / "crm.jsonl"
    data.write_text(json.dumps(EXAMPLE) + "\n")
    before = validate_file(data, profile="strict", schemas=registry)
    print("before:", before.summary(), dict(before.by_code))
    result = improve_dataset_sync(data, Path(tmp) / "out", schemas=registry, progress=False)
    print(result)
    after = validate_file(Path(tmp) / "out" / "improved_examples.jsonl", profile="strict",
                          schemas=registry)  # fmt: skip
    print("after:", after.summary())
