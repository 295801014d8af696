from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from syngen_improve import Context, Example, JsonlWriter, Message, Record, read_jsonl
from syngen_improve._model import DIMENSIONS, iter_tool_calls
from tests.helpers import GOOD_CONTEXT, make_example

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _extras(reserved: set[str]) -> st.SearchStrategy[dict[str, Any]]:
    keys = st.text(min_size=1, max_size=10).filter(lambda k: k not in reserved)
    return st.dictionaries(keys, json_values, max_size=3)


messages = st.builds(
    lambda role, content, extra: {"role": role, "content": content, **extra},
    st.sampled_from(["user", "assistant", "system", "tool"]),
    st.text(max_size=200),
    _extras({"role", "content"}),
)
score = st.integers(1, 5) | st.floats(1, 5, allow_nan=False)
quality = st.fixed_dictionaries(
    {},
    optional={
        "notes": st.text(max_size=80),
        **dict.fromkeys(DIMENSIONS, score),
        "overall_quality": score,
    },
).flatmap(
    lambda q: _extras(set(q) | {"notes", *DIMENSIONS, "overall_quality"}).map(lambda e: {**q, **e})
)
examples = st.builds(
    lambda conv, label, q, extra: {
        "conversations": conv,
        **({} if label is None else {"label": label}),
        **({} if q is None else {"quality_scores": q}),
        **extra,
    },
    st.lists(messages, max_size=4),
    st.none() | st.booleans(),
    st.none() | quality,
    _extras({"conversations", "label", "quality_scores"}),
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(examples, min_size=1, max_size=5))
def test_read_model_write_round_trip_keeps_json_content(
    tmp_path_factory: pytest.TempPathFactory, batch: list[dict[str, Any]]
) -> None:
    folder = tmp_path_factory.mktemp("rt")
    first, second = folder / "first.jsonl", folder / "second.jsonl"
    with JsonlWriter(first) as w:
        w.write_many(batch)
    with JsonlWriter(second) as w:
        for item in read_jsonl(first):
            assert isinstance(item, Record)
            w.write(Example.from_dict(item.data).to_dict())
    again = [r.data for r in read_jsonl(second) if isinstance(r, Record)]
    assert again == batch


def test_real_examples_round_trip_byte_for_byte(shared_data: Path) -> None:
    n = 0
    with open(shared_data / "scored_sample.jsonl", "rb") as fh:
        for line in fh:
            try:
                data = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            assert orjson.dumps(Example.from_dict(data).to_dict()) == orjson.dumps(data)
            n += 1
    assert n == 899


def test_models_do_not_coerce() -> None:
    with pytest.raises(ValidationError):
        Example.from_dict({"conversations": [], "label": "true"})
    with pytest.raises(ValidationError):
        Example.from_dict({"conversations": [{"role": "user", "content": 5}]})
    with pytest.raises(ValidationError):
        Example.from_dict({"conversations": [], "quality_scores": {"goal_coherence": "3"}})


def test_context_model_requires_seven_strings() -> None:
    Context.model_validate(GOOD_CONTEXT)
    with pytest.raises(ValidationError, match="sessionMemory"):
        Context.model_validate({**GOOD_CONTEXT, "sessionMemory": []})
    missing = dict(GOOD_CONTEXT)
    del missing["subgoal"]
    with pytest.raises(ValidationError, match="subgoal"):
        Context.model_validate(missing)


def test_tool_calls_from_model_and_from_dict_agree() -> None:
    data = make_example()
    model = Example.from_dict(data)
    assert [c.name for c in model.tool_calls()] == ["vaultManager_listDirectory"]
    assert [(t, c.name) for t, c in iter_tool_calls(data)] == [(1, "vaultManager_listDirectory")]
    assert Message(role="user", content="tool_call: x\narguments: {}").tool_calls() == []


def test_iter_tool_calls_tolerates_any_shape() -> None:
    assert list(iter_tool_calls({})) == []
    assert list(iter_tool_calls({"conversations": "nope"})) == []
    odd = {"conversations": [1, {"role": "assistant", "content": 3}, {"role": "assistant"}]}
    assert list(iter_tool_calls(odd)) == []
