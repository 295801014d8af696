"""The fake keeps its own rules: two independent readings that must agree, and a fake
that notices what the package's detectors would miss."""

from __future__ import annotations

from syngen_improve import ToolRegistry, detect_structural
from syngen_improve.testing import FakeModel
from syngen_improve.testing._rubric import findings
from syngen_improve.testing._tools import bundled_tools
from tests.helpers import make_example


def test_the_fakes_reading_of_the_tool_schemas_agrees_with_the_registry() -> None:
    ours, fakes = ToolRegistry.default(), bundled_tools()
    assert set(fakes) == set(ours)
    assert len(fakes) == 47
    for name, spec in fakes.items():
        assert set(spec.required) == set(ours[name].required), name
        for param, schema in spec.properties.items():
            if "enum" in schema:  # both read 'a' | 'b' as the same choice
                assert schema["enum"] == ours[name].properties[param]["enum"], (name, param)


def test_what_the_fake_improves_passes_the_packages_detectors() -> None:
    poor = make_example(sessionMemory="", toolContext="Searching")
    assert set(findings(poor)) >= {"memory", "tool_context"}
    better = FakeModel().improve(poor)
    assert findings(better) == {}
    assert detect_structural(better) == {}
