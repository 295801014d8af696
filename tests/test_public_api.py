from __future__ import annotations

import syngen_improve
import syngen_improve.analyze
import syngen_improve.export
import syngen_improve.improve
import syngen_improve.interleave
import syngen_improve.llm
import syngen_improve.testing
import syngen_improve.validate


def test_all_is_sorted_and_complete() -> None:
    for module in (
        syngen_improve,
        syngen_improve.analyze,
        syngen_improve.improve,
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


def test_flat_modules_export_what_they_define() -> None:
    for module in (syngen_improve.export, syngen_improve.interleave):
        names = module.__all__
        assert names == sorted(names), module.__name__
        here = module.__name__
        defined = {
            n
            for n, v in vars(module).items()
            if not n.startswith("_")
            and getattr(v, "__module__", here) == here
            and type(v).__name__ != "module"
        }
        assert set(names) <= set(vars(module)), module.__name__
        assert defined - {"annotations"} <= set(names), module.__name__
