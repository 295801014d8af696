"""The acceptance gate: what becomes an improved example and what is sent back."""

from __future__ import annotations

import json
from typing import Any

from syngen_improve.dialects import canonical
from syngen_improve.improve import check_reply
from syngen_improve.llm import Reply, Usage
from syngen_improve.prompts import IMPROVE_TOOL
from syngen_improve.testing import FakeModel
from syngen_improve.validate import ToolRegistry
from tests.helpers import GOOD_CONTEXT, call_text, make_example

SCHEMAS = ToolRegistry.default()


def original() -> dict[str, Any]:
    ex = make_example(sessionMemory="")
    ex["_index"] = 7
    ex["quality_scores"] = {"overall_quality": 2.2, "sessionMemory_quality": 1}
    return ex


def tool_reply(example: Any, name: str = IMPROVE_TOOL, stop: str = "tool_use") -> Reply:
    block = {"type": "tool_use", "id": "t1", "name": name, "input": example}
    return Reply(content=[block], usage=Usage(), stop_reason=stop)


def test_a_good_answer_is_accepted_with_the_original_metadata() -> None:
    orig = original()
    improved = FakeModel().improve(orig)
    improved["label"] = False  # whatever the model says, the record is desirable
    verdict = check_reply(tool_reply(improved), orig, schemas=SCHEMAS)
    assert verdict.accepted, verdict.errors
    record = verdict.record
    assert record is not None
    assert record["label"] is True
    assert record["_index"] == 7
    assert record["improved"] is True
    # The original's scores are kept, under a name that says whose they are.
    assert "quality_scores" not in record
    assert record["original_quality_scores"] == {"overall_quality": 2.2,
                                                 "sessionMemory_quality": 1}  # fmt: skip
    assert list(record)[:2] == ["conversations", "label"]


def test_text_json_fallback_is_accepted() -> None:
    orig = original()
    text = f"Here it is:\n```json\n{json.dumps(FakeModel().improve(orig), indent=2)}\n```"
    reply = Reply(content=[{"type": "text", "text": text}], usage=Usage())
    assert check_reply(reply, orig, schemas=SCHEMAS).accepted


def test_rejections_name_the_reason() -> None:
    orig = original()
    wrong = check_reply(tool_reply({"notes": ""}, name="submit_scores"), orig, schemas=SCHEMAS)
    assert (wrong.reason, wrong.accepted) == ("wrong_tool", False)
    cut = Reply(
        content=[{"type": "text", "text": '{"conv'}], usage=Usage(), stop_reason="max_tokens"
    )
    assert check_reply(cut, orig, schemas=SCHEMAS).reason == "truncated"
    nothing = Reply(content=[{"type": "text", "text": "I can't"}], usage=Usage())
    assert check_reply(nothing, orig, schemas=SCHEMAS).reason == "no_example"
    assert check_reply(tool_reply({"conversations": "x"}), orig, schemas=SCHEMAS).reason == (
        "no_example"
    )


def test_changing_the_tools_is_rejected() -> None:
    orig = original()
    swapped = make_example(assistant=call_text("contentManager_readContent", result={"ok": True}))
    verdict = check_reply(tool_reply(swapped), orig, schemas=SCHEMAS)
    assert verdict.reason == "tools_changed"
    assert "vaultManager_listDirectory" in verdict.errors[0]


def test_strict_validation_errors_are_listed_with_codes() -> None:
    orig = original()
    bad_ctx = {**GOOD_CONTEXT, "sessionId": "nope"}
    broken = make_example(assistant=call_text(context=bad_ctx))  # no Result, bad id
    verdict = check_reply(tool_reply(broken), orig, schemas=SCHEMAS)
    assert verdict.reason == "invalid"
    codes = {e.split()[0] for e in verdict.errors}
    assert {"C204", "R402"} <= codes


def test_a_structured_answer_is_rendered_then_judged_like_any_other() -> None:
    """The structured form (turns of texts and calls) is read into the text grammar, and
    the gate's checks apply to what it renders: a good one passes, a schema slip in it is
    named in the grammar's terms, a shape that is not an answer says why."""
    from syngen_improve.context import SEVEN_FIELDS
    from syngen_improve.prompts._structured import to_structured

    orig = original()
    improved = FakeModel().improve(orig)
    structured = to_structured(improved, SEVEN_FIELDS)
    verdict = check_reply(tool_reply(structured), orig, schemas=SCHEMAS)
    assert verdict.accepted, verdict.errors
    assert verdict.record is not None
    assert verdict.record["conversations"] == canonical(improved)["conversations"]
    slipped = to_structured(improved, SEVEN_FIELDS)
    slipped["turns"][1]["parts"][0]["arguments"]["path"] = 5
    bad = check_reply(tool_reply(slipped), orig, schemas=SCHEMAS)
    assert bad.reason == "invalid"
    assert any(e.startswith("Q603") and "path" in e for e in bad.errors), bad.errors
    broken = check_reply(tool_reply({"turns": "all of them"}), orig, schemas=SCHEMAS)
    assert (broken.reason, broken.accepted) == ("no_example", False)
    assert "cannot be read: the answer has no 'turns' list" in broken.errors[0]
