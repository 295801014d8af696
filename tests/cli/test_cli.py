from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from syngen_improve.cli import main
from tests.helpers import make_example


def test_analyze_json(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(shared_data / "scored_sample.jsonl"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["total"], out["poor"], out["good"]) == (899, 568, 331)
    assert out["malformed"][0]["line"] == 613


def test_analyze_table(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(shared_data / "scored_sample.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "poor             568" in out
    assert "line 613: malformed" in out


def test_policy_options(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(shared_data / "scored_sample.jsonl")
    assert main(["analyze", path, "--json", "--overall-below", "2.5", "--memory-at-most", "0"]) == 0
    assert json.loads(capsys.readouterr().out)["poor"] < 568
    assert main(["analyze", path, "--overall-below", "0"]) == 2
    assert "'overall_below' must be" in capsys.readouterr().err


def test_unreadable_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(tmp_path / "missing.jsonl")]) == 2
    assert "input file not found: " in capsys.readouterr().err
    assert main(["analyze", str(tmp_path)]) == 2
    assert "is a directory, not a file" in capsys.readouterr().err


def test_usage_error_exits_2() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["analyze"])
    assert exc.value.code == 2


def test_demo_runs_offline(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--json", "--out", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["counts"]["poor"] == 120
    assert report["counts"]["improved"] == 120
    assert report["requests"]["retried"] > 0  # the demo's fake injects a few faults
    assert main(["demo", "--out", str(out)]) == 0  # a second demo replaces the first
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    assert main(["demo", "--out", str(tmp_path / "other")]) == 2
    assert (tmp_path / "other" / "notes.txt").exists()


def test_console_script_entry_point(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "syngen_improve", "demo"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "improved 120, failed 0" in proc.stdout
    assert (tmp_path / "syngen-demo-output" / "report.json").exists()


def test_validate_exit_codes_and_json(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = str(shared_data / "scored_sample.jsonl")
    assert main(["validate", sample, "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["failed_lines"] == [804]
    assert out["malformed"][0]["line"] == 613
    assert (out["total"], out["passed"], out["failed"]) == (899, 898, 1)
    assert out["by_code"]["P302"] == 1

    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps(make_example()) + "\n")
    assert main(["validate", str(good)]) == 0
    assert "Validated 1 examples: 0 failed (ignoring 0 label=false)" in capsys.readouterr().out
    assert main(["validate", str(tmp_path / "missing.jsonl")]) == 2
    assert f"input file not found: {tmp_path / 'missing.jsonl'}" in capsys.readouterr().err


def test_validate_strict_and_schemas(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    example = make_example(sessionMemory="")
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps(example) + "\n")
    assert main(["validate", str(path)]) == 0
    assert main(["validate", str(path), "--strict"]) == 1
    assert "Q602" in capsys.readouterr().out

    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps({"tools": [{"name": "other_tool", "inputSchema": {}}]}))
    assert main(["validate", str(path), "--schemas", str(tools), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["by_code"] == {"P301": 1}
    tools.write_text("[1]")
    assert main(["validate", str(path), "--schemas", str(tools)]) == 2
    assert "unrecognised tool schema format" in capsys.readouterr().err
    assert main(["validate", str(path), "--workers", "0"]) == 2


def test_improve_exit_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from syngen_improve import sample_path
    from syngen_improve.testing import FakeAnthropicServer, FakeConfig

    sample = str(sample_path())
    out = str(tmp_path / "run")
    assert main(["improve", sample, "--out", out, "--backend", "fake", "--no-progress"]) == 0
    assert "improved 120, failed 0" in capsys.readouterr().out
    assert main(["improve", sample, "--out", out, "--backend", "fake", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "resume it (--resume) or choose an empty folder" in err  # the CLI's words only
    assert "resume=True" not in err
    assert main(["improve", sample, "--out", out, "--backend", "fake", "--resume"]) == 0
    assert main(["improve", str(tmp_path / "missing.jsonl"), "--out", out, "--resume"]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["improve", sample, "--out", out, "--concurrency", "0", "--resume"]) == 2
    assert "'--concurrency' must be a whole number >= 1" in capsys.readouterr().err

    always_broken = FakeConfig(bad_output_rates={"broken_rules": 1.0})
    with FakeAnthropicServer(config=always_broken) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
        args = ["improve", sample, "--out", str(tmp_path / "bad"), "--no-progress"]
        assert main([*args, "--answers", "2", "--limit", "10"]) == 1
    assert "improved 0, failed 8" in capsys.readouterr().out


def test_improve_without_a_key_says_how_to_get_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from syngen_improve import sample_path

    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    out = tmp_path / "out"
    assert main(["improve", str(sample_path()), "--out", str(out)]) == 2
    assert "ANTHROPIC_API_KEY" in capsys.readouterr().err
    assert not out.exists()  # nothing ran, so nothing was written (no run recorded)


def test_interleave_and_export_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good, bad = tmp_path / "g.jsonl", tmp_path / "b.jsonl"
    rows = [{"conversations": [{"role": "user", "content": "hi"},
                               {"role": "assistant", "content": "hello"}], "_source_line": n}
            for n in range(6)]  # fmt: skip
    good.write_text("".join(json.dumps(r) + "\n" for r in rows[:2]))
    bad.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "k.jsonl"
    args = ["interleave", "--desirable", str(good), "--undesirable", str(bad), "--out", str(out)]
    assert main([*args, "--batch-size", "4"]) == 0
    text = capsys.readouterr().out
    assert "first labels: T F F F T F F F" in text
    assert "longest run: 3 (False)" in text
    assert main([*args, "--policy", "truncate", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["interleave"]["dropped"] == 4
    assert data["verify"]["first_labels"] == [True, False, True, False]
    assert (
        main([*args[:-2], "--out", str(tmp_path / "x"), "--pairs", "--policy", "oversample"]) == 2
    )
    assert "cannot keep pairs" in capsys.readouterr().err
    missing = ["interleave", "--desirable", str(tmp_path / "none"), "--undesirable", str(bad)]
    assert main([*missing, "--out", str(out)]) == 2

    assert main(["export", str(out), "--format", "sft", "--out", str(tmp_path / "s.jsonl")]) == 0
    assert "wrote 2 sft rows" in capsys.readouterr().out
    assert main(["export", str(good), "--format", "kto", "--out", str(tmp_path / "e")]) == 2
    assert "line 1: 'label' must be true or false" in capsys.readouterr().err


def test_judge_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from syngen_improve import sample_path

    out = str(tmp_path / "scored.jsonl")
    args = ["judge", str(sample_path()), "--out", out, "--backend", "fake", "--no-progress"]
    assert main(args) == 0
    assert "judged 199 (0 from the cache, 199 requests)" in capsys.readouterr().out
    assert main([*args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["cached"] == 199
    assert main(["judge", str(tmp_path / "none.jsonl"), "--out", out, "--backend", "fake"]) == 2


def test_a_bug_is_exit_70_with_its_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unexpected exception, even a ValueError, is a bug: never exit 2."""
    import syngen_improve.cli.analyze

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("an internal invariant broke")

    monkeypatch.setattr(syngen_improve.cli.analyze, "analyze_dataset", broken)
    assert main(["analyze", "whatever.jsonl"]) == 70
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert "ValueError: an internal invariant broke" in err
    assert "internal error" in err


def test_errors_of_each_kind_map_to_their_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from syngen_improve import sample_path

    sample = str(sample_path())
    out = tmp_path / "out"
    out.write_text("")
    # OutputExists: the output folder is a file.
    assert main(["improve", sample, "--out", str(out), "--backend", "fake"]) == 2
    assert "is a file" in capsys.readouterr().err
    # UsageError from the config: a bad value named.
    assert main(["improve", sample, "--out", str(tmp_path / "o"), "--answers", "0"]) == 2
    assert "'--answers' must be a whole number >= 1" in capsys.readouterr().err
    assert main(["improve", sample, "--out", str(tmp_path / "o"), "--shard", "3/2"]) == 2
    assert "1 <= I <= N" in capsys.readouterr().err


def test_options_are_never_abbreviated(capsys: pytest.CaptureFixture[str]) -> None:
    """``--output`` is not silently read as ``--output-tpm``."""
    with pytest.raises(SystemExit) as exc:
        main(["improve", "in.jsonl", "--out", "o", "--output", "100"])
    assert exc.value.code == 2
    assert "unrecognized arguments: --output" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "new"),
    [
        (["improve", "x", "--out", "o", "--max-attempts", "5"], "--answers"),
        (["interleave", "--desirable", "d", "--undesirable", "u", "--out", "o", "--gap", "4"],
         "--prompt-gap"),
    ],
)  # fmt: skip
def test_a_renamed_flag_is_refused_pointing_to_its_new_name(
    argv: list[str], new: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """One name, one meaning: --max-attempts (once an alias of --answers, while
    RetryPolicy.max_attempts means HTTP tries) and interleave's --gap (improve's
    --prompt-gap) are refused with the new name."""
    from syngen_improve.cli import build_parser

    with pytest.raises(SystemExit) as exit:
        build_parser().parse_args(argv)
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert f"{argv[-2]} is gone" in err
    assert new in err


def test_interleave_takes_the_prompt_gap_as_improve_declares_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from syngen_improve.cli import main

    good = tmp_path / "g.jsonl"
    bad = tmp_path / "b.jsonl"
    turns = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x"}]
    row = {"conversations": turns}
    good.write_text(json.dumps({**row, "label": True}) + "\n")
    bad.write_text(json.dumps({**row, "label": False}) + "\n")
    argv = ["interleave", "--desirable", str(good), "--undesirable", str(bad)]
    assert main([*argv, "--out", str(tmp_path / "o.jsonl"), "--prompt-gap", "-1"]) == 2
    assert "'--prompt-gap' must be a whole number >= 0, got -1" in capsys.readouterr().err
    assert main([*argv, "--out", str(tmp_path / "o.jsonl"), "--prompt-gap", "1", "--json"]) == 0
    verify = json.loads(capsys.readouterr().out)["verify"]
    assert (verify["prompt_gap"], verify["close_prompts"]) == (1, 1)


def test_an_outage_exits_75_and_says_resume(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every request fails (the service is down): exit 75 (EX_TEMPFAIL), not 1."""
    from syngen_improve import sample_path
    from syngen_improve.llm import RetryPolicy
    from syngen_improve.testing import FakeAnthropicServer, FakeConfig

    with FakeAnthropicServer(config=FakeConfig(fault_rates={"500": 1.0})) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-down")
        monkeypatch.setattr(RetryPolicy, "delay", lambda *_, **__: 0.001)  # no real back-off
        args = ["improve", str(sample_path()), "--out", str(tmp_path), "--limit", "3",
                "--no-progress", "--timeout", "5"]  # fmt: skip
        assert main(args) == 75  # 3 poor examples x 6 tries: under the breaker's threshold
        err = capsys.readouterr().err
        assert "got no answer from the service" in err
        assert "HTTP 500 api_error: fault injected: internal error (x3)" in err
        assert "--resume" in err
        # A longer outage opens the breaker, which stops the run after its patience.
        args[3] = str(tmp_path / "long")
        args[5] = "20"
        assert main([*args, "--patience", "0.2"]) == 75
    err = capsys.readouterr().err
    assert "the service failed every request for over 0.2 s" in err
    assert "--resume" in err


def test_the_console_shows_a_run_warning_as_one_plain_line() -> None:
    """The console process shows CacheWarning / StrictToolWarning as one line in the
    CLI's voice (not file:line plus a source line); other warnings as Python does."""
    script = (
        "import warnings\n"
        "from syngen_improve.cli._app import console_warnings\n"
        "from syngen_improve.errors import StrictToolWarning\n"
        "console_warnings()\n"
        "warnings.warn('strict tool use is off: refused', StrictToolWarning)\n"
        "warnings.warn('something else', DeprecationWarning)\n"
    )
    proc = subprocess.run([sys.executable, "-W", "always", "-c", script],
                          capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    lines = proc.stderr.splitlines()
    assert lines[0] == "syngen-improve: warning: strict tool use is off: refused"
    assert "DeprecationWarning: something else" in proc.stderr
    assert "StrictToolWarning" not in proc.stderr


@pytest.mark.parametrize(("argv", "said"), [
    (["improve", "in.jsonl", "--output", "out3"],
     "unknown option --output (did you mean --output-tpm or --out?)"),
    (["improve", "in.jsonl", "--output", "100", "--out", "x"],
     "unknown option --output (did you mean --output-tpm or --out?); unrecognized arguments: "
     "--output 100"),
    (["improve", "in.jsonl", "--out", "x", "--concurency", "3"],
     "unknown option --concurency (did you mean --concurrency?)"),
    (["analyze", "in.jsonl", "--jsn"], "unknown option --jsn (did you mean --json?)"),
    (["improve", "in.jsonl", "--out", "x", "--output-tp", "5"],
     "unknown option --output-tp (did you mean --output-tpm or --out?)"),
    # A mistyped command is the error (its options mean nothing yet), with the command meant.
    (["imporve", "in.jsonl", "--out", "x"], "error: unknown command 'imporve' (did you mean "
     "improve?); the commands: analyze, validate,"),
    (["frobnicate"], "error: unknown command 'frobnicate'; the commands: analyze,"),
])  # fmt: skip
def test_no_prefix_of_an_option_is_taken_for_it(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """argparse would read --output as a prefix of --output-tpm; every parser takes whole
    options only, and an unknown one is named with the option it most likely meant."""
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    assert said in capsys.readouterr().err


def test_an_error_names_options_as_its_surface_spells_them() -> None:
    """Python callers read ``resume=True``; the command line prints ``--resume``."""
    from syngen_improve.errors import OutputExists, option

    error = OutputExists(f"resume it ({option('--resume', 'resume=True')}) or not")
    assert str(error) == "resume it (resume=True) or not"
    assert error.cli_message() == "resume it (--resume) or not"
    assert str(OutputExists("plain [text]")) == "plain [text]"
