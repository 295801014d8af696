from __future__ import annotations

import syngen_improve
import syngen_improve.analyze
import syngen_improve.llm
import syngen_improve.testing
import syngen_improve.validate


def test_all_is_sorted_and_complete() -> None:
    for module in (
        syngen_improve,
        syngen_improve.analyze,
        syngen_improve.llm,
        syngen_improve.testing,
        syngen_improve.validate,
    ):
        names = module.__all__
        assert names == sorted(names), module.__name__
        public = {n for n in vars(module) if not n.startswith("_") and n != "annotations"}
        public -= {m for m in public if type(getattr(module, m)).__name__ == "module"}
        assert public == set(names) - {"__version__"}, module.__name__
        for name in names:
            assert hasattr(module, name)


def test_version() -> None:
    assert syngen_improve.__version__.count(".") == 2
