"""Start-up stays lean: the command line reaches its first request without importing what
only some runs need (each of these costs tens of milliseconds to over a second)."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("anthropic", "httpx2", "pydantic", "jsonschema")


def test_the_command_line_imports_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "import syngen_improve.cli._app, syngen_improve.llm, syngen_improve.run\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)  # fmt: skip
    assert done.stdout.strip() == "[]"


def test_the_models_load_on_first_use() -> None:
    code = (
        "import sys\n"
        "import syngen_improve\n"
        "before = 'pydantic' in sys.modules\n"
        "from syngen_improve import Example\n"
        "ok = Example.from_dict({'conversations': []}).to_dict() == {'conversations': []}\n"
        "print(before, ok, syngen_improve.Message.__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)  # fmt: skip
    assert done.stdout.split() == ["False", "True", "Message"]


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    import syngen_improve

    with pytest.raises(AttributeError, match="NoSuchThing"):
        syngen_improve.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018


def test_the_gc_is_tuned_for_the_command_line_only() -> None:
    """A command-line run collects the youngest generation less often; importing or
    calling the library never changes the caller's collector."""
    code = (
        "import gc, sys\n"
        "before = gc.get_threshold()\n"
        "import syngen_improve, syngen_improve.cli\n"
        "assert syngen_improve.cli.main(['report', '/nonexistent/folder']) == 2\n"
        "library = gc.get_threshold()\n"
        "from syngen_improve.cli._app import _tune_gc\n"
        "_tune_gc()\n"
        "print(before == library, gc.get_threshold()[0] > before[0], gc.get_freeze_count() > 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert done.stdout.split()[-3:] == ["True", "True", "True"], done.stderr
