"""The public names, pinned: adding, removing or renaming one is a decision made here."""

from __future__ import annotations

import importlib

import pytest

import syngen_improve

PUBLIC: dict[str, set[str]] = {
    "syngen_improve": {
        "Context",
        "ContextConvention",
        "DatasetProfile",
        "Estimate",
        "Example",
        "ImproveConfig",
        "ImproveResult",
        "Improver",
        "Issue",
        "JsonlWriter",
        "Malformed",
        "Message",
        "Outcome",
        "QualityScores",
        "RateLimits",
        "Record",
        "RelabelPolicy",
        "Report",
        "RetryPolicy",
        "SeedPolicy",
        "SyngenError",
        "Templates",
        "ToolCall",
        "ToolRegistry",
        "ValidationReport",
        "__version__",
        "analyze_dataset",
        "detect_from_notes",
        "detect_structural",
        "estimate_cost",
        "improve_dataset",
        "improve_dataset_sync",
        "parse_tool_calls",
        "read_jsonl",
        "sample_path",
        "tool_schemas_path",
        "validate_example",
        "validate_file",
    },
    "syngen_improve.analyze": {
        "DatasetProfile",
        "ProfileBuilder",
        "RelabelPolicy",
        "STRUCTURAL_KINDS",
        "SeedPolicy",
        "agent_of",
        "analyze_dataset",
        "detect_from_notes",
        "detect_structural",
        "is_natural_request",
        "issue_kinds",
        "shape_problem",
    },
    "syngen_improve.audit": {
        "Auditor",
        "FEATURES",
        "THRESHOLD",
        "ShortcutAudit",
        "Surface",
        "audit_file",
        "audit_rows",
        "roc_auc",
    },
    "syngen_improve.cli": {
        "build_parser",
        "main",
        "main_exit",
        "reference_markdown",
    },
    "syngen_improve.config": {
        "BATCH_CONCURRENCY",
        "ONLINE_CONCURRENCY",
        "ImproveConfig",
        "parse_shard",
    },
    "syngen_improve.errors": {
        "CacheWarning",
        "EXIT_FAILED",
        "EXIT_INTERRUPTED",
        "EXIT_OK",
        "EXIT_SOFTWARE",
        "EXIT_TEMPFAIL",
        "EXIT_TERMINATED",
        "EXIT_USAGE",
        "FolderBusy",
        "InputChanged",
        "InputError",
        "InputNotFound",
        "InvalidInput",
        "OutputExists",
        "ServiceRefused",
        "SettingsChanged",
        "StrictToolWarning",
        "SyngenError",
        "Terminated",
        "TooManyOpenFiles",
        "UsageError",
        "WriteFailed",
    },
    "syngen_improve.context": {
        "CONVENTIONS",
        "ContextConvention",
        "NO_CONTEXT",
        "SAMPLE_ROWS",
        "SEVEN_FIELDS",
        "detect_convention",
        "detect_file_convention",
        "load_convention",
        "resolve_convention",
        "sample_rows",
    },
    "syngen_improve.dialects": {
        "Call",
        "Conversation",
        "DIALECTS",
        "Dialect",
        "FileDialect",
        "ROLES",
        "Turn",
        "as_text_grammar",
        "canonical",
        "check_dialect",
        "detect_dialect",
        "in_dialect",
        "read_conversation",
        "read_hermes",
        "read_openai",
        "read_sharegpt",
        "read_text",
        "render_call",
        "write_hermes",
        "write_openai",
        "write_sharegpt",
        "write_text",
    },
    "syngen_improve.estimate": {
        "Estimate",
        "TokenCounter",
        "estimate_cost",
    },
    "syngen_improve.export": {
        "ExportError",
        "ExportFormat",
        "ExportStats",
        "FORMATS",
        "export_file",
        "export_record",
        "in_eval",
        "split_group",
    },
    "syngen_improve.improve": {
        "Improver",
        "Outcome",
        "REASONS",
        "Verdict",
        "build_record",
        "check_reply",
    },
    "syngen_improve.interleave": {
        "DEFAULT_GAP",
        "InterleaveReport",
        "InterleaveStats",
        "POLICIES",
        "PairStream",
        "Policy",
        "interleave",
        "interleave_files",
        "last_prompts",
        "verify_interleaving",
    },
    "syngen_improve.judge": {
        "JUDGE_TOOL",
        "Judge",
        "JudgeCache",
        "JudgeError",
        "JudgeResult",
        "judge_dataset",
        "judge_dataset_sync",
        "judge_tool",
        "mean_scores",
        "scores_from_reply",
    },
    "syngen_improve.llm": {
        "AnthropicBackend",
        "Backend",
        "BackendError",
        "BatchBackend",
        "BatchStopped",
        "BreakerPolicy",
        "Budget",
        "BudgetReached",
        "CircuitBreaker",
        "DEFAULT_MODEL",
        "DirectBackend",
        "Engine",
        "EngineStats",
        "OpenAIBackend",
        "PRICES",
        "Pricing",
        "RateLimiter",
        "RateLimits",
        "Reply",
        "Request",
        "RequestFailed",
        "RetryPolicy",
        "ServiceUnavailable",
        "Usage",
        "estimate_input_tokens",
        "parse_retry_after",
        "price_for",
    },
    "syngen_improve.merge": {
        "merge_outputs",
    },
    "syngen_improve.outputs": {
        "FILES",
        "Layout",
        "Prior",
        "count_lines",
        "estimate_lines",
        "is_improvement",
        "is_transient",
        "settle_failures",
        "source_lines",
    },
    "syngen_improve.prompts": {
        "IMPROVE_TOOL",
        "ISSUE_BLOCKS",
        "Templates",
        "build_request",
        "first_message",
        "improve_tool",
        "judge_system_prompt",
        "reask_messages",
        "tool_schemas_text",
    },
    "syngen_improve.report": {
        "Counts",
        "Report",
        "Requests",
        "TIMING_FIELDS",
        "Tokens",
        "build_report",
        "render_markdown",
        "write_report",
    },
    "syngen_improve.run": {
        "ImproveResult",
        "improve_dataset",
        "improve_dataset_sync",
    },
    "syngen_improve.testing": {
        "BAD_OUTPUTS",
        "Counters",
        "DEMO_CONFIG",
        "FAULTS",
        "FakeAnthropic",
        "FakeAnthropicServer",
        "FakeConfig",
        "FakeModel",
        "FakeResponse",
        "HOSTILE",
        "example_key",
        "find_example",
        "in_process_transport",
    },
    "syngen_improve.validate": {
        "Issue",
        "Level",
        "Profile",
        "RULES",
        "Rule",
        "ToolRegistry",
        "ToolSchema",
        "ValidationReport",
        "example_fails",
        "validate_example",
        "validate_file",
    },
}


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_names_are_exactly_these(name: str) -> None:
    module = importlib.import_module(name)
    assert set(module.__all__) == PUBLIC[name]
    assert module.__all__ == sorted(module.__all__), "keep __all__ in sorted() order"
    assert len(module.__all__) == len(PUBLIC[name]), "a name twice in __all__"
    for attr in module.__all__:
        assert hasattr(module, attr), attr


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_nothing_public_is_left_out_of_all(name: str) -> None:
    """A package exports everything public it imports; a plain module everything public
    it defines: classes and functions (its imports are its own business)."""
    module = importlib.import_module(name)
    package = hasattr(module, "__path__")
    public = {
        n
        for n, v in vars(module).items()
        if not n.startswith("_")
        and n != "annotations"
        and type(v).__name__ != "module"
        and (package or (callable(v) and getattr(v, "__module__", None) == name))
    }
    assert public <= set(module.__all__) | {"__version__"}, public - set(module.__all__)


def test_version() -> None:
    assert syngen_improve.__version__.count(".") == 2
