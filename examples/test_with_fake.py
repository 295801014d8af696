"""How to test your own pipeline with syngen_improve.testing: no key, no network.

Run it as a script (it calls pytest on itself) or copy the tests into your suite.

    python examples/test_with_fake.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from syngen_improve import improve_dataset_sync, sample_path
from syngen_improve.llm import RetryPolicy
from syngen_improve.testing import FakeAnthropicServer, FakeConfig

FAST_RETRIES = RetryPolicy(base_delay=0.01, max_delay=0.1, timeout=5)


def test_my_pipeline_survives_api_faults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every example's first try fails with a 529 and then a dropped connection.
    config = FakeConfig(first_faults=["529", "drop"], latency=0.001)
    with FakeAnthropicServer(config=config) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
        result = improve_dataset_sync(
            sample_path(), tmp_path, retry=FAST_RETRIES, progress=False, limit=40
        )
    assert result.counts.failed == 0
    assert server.counters.faults["529"] == result.counts.improved


def test_rejected_answers_are_asked_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The model's first answer for each example breaks the rules; the gate sends it back.
    with FakeAnthropicServer(config=FakeConfig(first_bad_outputs=["broken_rules"])) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
        result = improve_dataset_sync(sample_path(), tmp_path, progress=False, limit=40)
    assert result.report.attempts == {"2": result.counts.improved}


def test_the_fixture(fake_anthropic_server: FakeAnthropicServer, tmp_path: Path) -> None:
    # With `pytest_plugins = ["syngen_improve.testing.pytest_plugin"]` in conftest.py.
    result = improve_dataset_sync(sample_path(), tmp_path, progress=False, limit=10)
    assert fake_anthropic_server.counters.requests == result.counts.poor


pytest_plugins = ["syngen_improve.testing.pytest_plugin"]

if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
