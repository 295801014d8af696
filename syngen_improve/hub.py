"""A Hugging Face Hub dataset folder from a run's output: every training format as a
config, train and test splits as the Hub's dataset card describes them, and a README.md
card written from the folder's report (what was done, by which model and templates, the
counts, the gate's rejections, quality before and after, the shortcut audit, the review).

``load_dataset(folder, "kto")`` (or ``"sft"``, ...) reads it as the Hub would.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ._decisions import Decisions
from ._paths import refuse_overwrite
from .errors import OutputExists, ServiceRefused, UsageError
from .export import FORMATS, ExportStats, export_file
from .llm._redact import Redactor
from .outputs import Layout

__all__ = ["CONFIGS", "HubFolder", "push_to_hub", "write_hub_folder"]

#: The configs a Hub folder holds; ``kto`` is the default one.
CONFIGS: Final = FORMATS
_SPLITS: Final = ("train", "test")


@dataclass
class HubFolder:
    """What :func:`write_hub_folder` wrote: the folder, and each config's export counts."""

    path: Path
    configs: dict[str, ExportStats] = field(default_factory=dict)


def write_hub_folder(
    path: str | os.PathLike[str],
    folder: str | os.PathLike[str],
    *,
    eval_fraction: float = 0.1,
    split_seed: int = 0,
) -> HubFolder:
    """Write the Hub dataset folder ``folder`` from the examples file ``path`` (a run's
    KTO file: its folder's report and review are read too): each of :data:`CONFIGS` as
    ``<config>/train.jsonl`` and, with ``eval_fraction``, ``<config>/test.jsonl`` (split
    by source, as ``export`` splits), and README.md. ``folder`` must be new or empty."""
    source, target = Path(path), Path(folder)
    if target.exists() and any(target.iterdir()):
        raise OutputExists(f"{target} is not empty: the Hub folder is written into a new one")
    refuse_overwrite(target / "README.md", source)
    target.mkdir(parents=True, exist_ok=True)
    done = HubFolder(target)
    try:
        for config in CONFIGS:
            (target / config).mkdir()
            train, test = (target / config / f"{s}.jsonl" for s in _SPLITS)
            done.configs[config] = export_file(
                source,
                train,
                fmt=config,
                tools=True,
                eval_fraction=eval_fraction,
                eval_out=test if eval_fraction else None,
                split_seed=split_seed,
            )
        card = _card(Layout(source.resolve().parent), done, eval_fraction)
        (target / "README.md").write_text(card, encoding="utf-8")
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return done


def _yaml(done: HubFolder, eval_fraction: float) -> list[str]:
    """The card's YAML header: each config with its splits (``kto`` the default)."""
    lines = ["---", "configs:"]
    for config in CONFIGS:
        lines += [f"- config_name: {config}", "  data_files:"]
        for split in _SPLITS if eval_fraction else _SPLITS[:1]:
            lines += [f"  - split: {split}", f"    path: {config}/{split}.jsonl"]
        if config == "kto":
            lines.append("  default: true")
    lines += ["tags:", "- syngen_improve", "- tool-calling", "- kto", "- synthetic", "---"]
    return lines


def _card(layout: Layout, done: HubFolder, eval_fraction: float) -> str:
    report: dict[str, Any] = layout.read_json(layout.report_json) or {}
    counts = report.get("counts", {})
    settings = (layout.read_json(layout.manifest) or {}).get("settings", {})
    body = [
        "# Improved tool-calling conversations",
        "",
        "Made by [syngen_improve](https://pypi.org/project/syngen-improve/): poor examples of a "
        "synthetic tool-calling dataset rewritten by a model under an acceptance gate (same "
        "turns and tool calls, the user's request kept, strict validation), each improvement "
        "beside its original as a preference pair.",
        "",
        "## How it was made",
        "",
        f"- model: `{report.get('model')}`; syngen_improve {report.get('version', '?')}",
        f"- prompt templates `{settings.get('templates', '?')}`, tool schemas "
        f"`{settings.get('schemas', '?')}`",
        f"- input lines {counts.get('input', 0):,}: {counts.get('poor', 0):,} poor, "
        f"{counts.get('good', 0):,} good, {counts.get('malformed', 0):,} malformed",
        f"- improved {counts.get('improved', 0):,}, failed {counts.get('failed', 0):,}; cost "
        f"${report.get('cost_usd') or 0:.4f}",
        f"- the gate's rejections: {_pairs(report.get('rejections', {}))}",
    ]
    before, after = report.get("quality_before"), report.get("quality_after")
    if before and after:
        body.append(f"- quality (judge, 1-5) before → after: {_scores(before, after)}")
    shortcuts = report.get("label_shortcuts") or {}
    if shortcuts:
        body.append(
            f"- label shortcuts: intended {', '.join(shortcuts.get('intended', [])) or 'none'}; "
            f"leaks {', '.join(shortcuts.get('leaks', shortcuts.get('flagged', []))) or 'none'}"
        )
    if layout.review.exists():  # the decisions as they stand, applied to every config
        body.append(f"- human review: {_pairs(Decisions.load(layout.review).counts())}")
    body += ["", "## Configs", ""]
    for config, stats in done.configs.items():
        split = f", {stats.eval:,} in test" if eval_fraction else ""
        body.append(f"- `{config}`: {stats.written:,} rows{split}")
    body += [
        "",
        "The run's output folder keeps each row's input line and provenance (run, model, "
        "templates, schemas). Licence of the input: as its source states (not recorded by "
        "the run).",
    ]
    return "\n".join(_yaml(done, eval_fraction) + body) + "\n"


def _pairs(counts: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in counts.items()) or "none"


def _scores(before: dict[str, Any], after: dict[str, Any]) -> str:
    return ", ".join(
        f"{k} {before[k]:.2f} → {after[k]:.2f}"
        for k in after
        if isinstance(before.get(k), int | float) and isinstance(after.get(k), int | float)
    )


def push_to_hub(
    folder: str | os.PathLike[str],
    repo_id: str,
    *,
    private: bool = False,
    token: str | None = None,
    endpoint: str | None = None,
) -> str:
    """Publish a Hub dataset folder (:func:`write_hub_folder`) as the dataset ``repo_id``
    (created when missing) in one commit through ``huggingface_hub`` (the ``hub`` extra);
    the commit's URL. ``token``: else the one ``huggingface_hub`` finds (``HF_TOKEN``, the
    login); ``endpoint``: another Hub (``HF_ENDPOINT``)."""
    try:
        from huggingface_hub import HfApi
    except ImportError:
        raise UsageError(
            "pushing to the Hub needs huggingface_hub: pip install 'syngen_improve[hub]'"
        ) from None
    source = Path(folder)
    if not (source / "README.md").is_file():
        raise UsageError(f"{source} is not a Hub dataset folder (no README.md card)")
    from huggingface_hub import get_token
    from huggingface_hub.errors import HfHubHTTPError

    api = HfApi(endpoint=endpoint, token=token)
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        info = api.upload_folder(
            repo_id=repo_id,
            folder_path=source,
            repo_type="dataset",
            commit_message="Improved tool-calling conversations (syngen_improve)",
        )
    except (HfHubHTTPError, ValueError) as exc:  # ValueError: the Hub found the card invalid
        response = getattr(exc, "response", None)
        status = response.status_code if response is not None else None
        text = " ".join(str(exc).split())
        message = Redactor(token or get_token())(text, limit=300)
        raise ServiceRefused(
            f"the Hub refused the push to {repo_id}: {message}", status=status
        ) from None
    return str(getattr(info, "commit_url", info))
