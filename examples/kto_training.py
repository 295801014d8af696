"""From an improve output folder to TRL: a few KTOTrainer and SFTTrainer steps on the CPU.

    pip install -e '.[train]'          # trl, transformers, torch, accelerate, datasets
    python examples/kto_training.py [OUTPUT_DIR]

Exports the interleaved file in TRL's KTO format (prompt / completion / label) and the
improvements in the SFT format (messages), checks the order a trainer will read, and
computes desirable/undesirable weights so that (desirable_weight x D) / (undesirable_weight
x U) lies in TRL's recommended 1:1 to 4:3. Then it trains, offline: a tiny model and a
word-level tokenizer are built here from the data itself (nothing from the hub), and a few
steps of KTOTrainer and of SFTTrainer run on the CPU, printing each logged loss. It is a
check that the files train, not a recipe: use your own model for real training.
Without TRL and torch it stops after preparing the data. Without an argument it first
runs the offline demo to have a folder to work on.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from syngen_improve.cli import main as cli
from syngen_improve.export import export_file
from syngen_improve.interleave import verify_interleaving

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is downloaded
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

#: A chat template for the SFT rows: each turn with its role, tool calls as JSON.
CHAT_TEMPLATE = (
    "{%- for m in messages %}<|{{ m.role }}|>"
    "{%- if m.content %}{{ m.content }}{%- endif %}"
    "{%- if m.tool_calls %}{%- for c in m.tool_calls %} <tool_call> {{ c | tojson }}"
    "{%- endfor %}{%- endif %}\n{%- endfor %}"
)


def words(path: Path) -> set[str]:
    """Every word and punctuation mark in a JSONL file's text (the tiny vocabulary)."""
    return set(re.findall(r"\w+|[^\w\s]", path.read_text("utf-8")))


def tiny_tokenizer(*sources: Path) -> Any:
    """A word-level tokenizer over the words of ``sources``, with pad and end tokens."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    special = ["[UNK]", "[PAD]", "<s>", "</s>"]
    vocab = {t: i for i, t in enumerate([*special, *sorted(set().union(*map(words, sources)))])}
    core = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, unk_token="[UNK]", pad_token="[PAD]", bos_token="<s>",
        eos_token="</s>",
    )  # fmt: skip
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def tiny_model(tokenizer: Any, folder: Path) -> str:
    """A two-layer causal LM sized to the vocabulary, in float32, saved in ``folder`` (the
    trainers load it, and the reference model, from there)."""
    import torch  # type: ignore[import-not-found]
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)  # the same tiny model, so the same losses, on every run

    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=512,
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )  # fmt: skip
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def losses(trainer: Any, name: str) -> list[float]:
    logged = [float(e["loss"]) for e in trainer.state.log_history if "loss" in e]
    for step, loss in enumerate(logged, 1):
        print(f"{name} step {step}: loss {loss:.4f}")
    if not logged or not all(math.isfinite(x) for x in logged):
        raise SystemExit(f"{name}: no finite loss was logged ({logged})")
    return logged


class _Misfits(logging.Handler):
    """TRL's warnings that a prompt's tokens are not a prefix of prompt + completion's: the
    files would train on a context that differs from the one seen at inference."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "not a prefix" in record.getMessage():
            self.seen.append(record.getMessage())


def train(kto: Path, sft: Path, weights: dict[str, float], work: Path) -> None:
    import datasets  # type: ignore[import-untyped]
    import transformers
    from trl import KTOConfig, KTOTrainer, SFTConfig, SFTTrainer  # type: ignore[import-not-found]

    datasets.disable_progress_bars()  # the losses are the output here
    transformers.utils.logging.disable_progress_bar()
    misfits = _Misfits()
    logging.getLogger("trl").addHandler(misfits)
    load_dataset = datasets.load_dataset

    tokenizer = tiny_tokenizer(kto, sft)
    common = {"use_cpu": True, "max_steps": 3, "logging_steps": 1, "report_to": "none",
              "save_strategy": "no", "learning_rate": 1e-3, "disable_tqdm": True,
              "dataloader_num_workers": 0, "max_length": 128}  # fmt: skip
    # TRL's KTOTrainer reads the rows in order and pairs each with its batch neighbours for
    # the KL term: the interleaved order keeps both labels in every batch of 8.
    kto_rows = load_dataset("json", data_files=str(kto), split="train")
    kto_args = KTOConfig(output_dir=str(work / "kto"), per_device_train_batch_size=8,
                         **weights, **common)  # fmt: skip
    trainer = KTOTrainer(model=tiny_model(tokenizer, work / "model"), args=kto_args,
                         train_dataset=kto_rows,
                         processing_class=tokenizer)  # fmt: skip
    trainer.train()
    losses(trainer, "KTO")
    sft_rows = load_dataset("json", data_files=str(sft), split="train")
    sft_args = SFTConfig(output_dir=str(work / "sft"), per_device_train_batch_size=4, **common)
    trainer = SFTTrainer(model=tiny_model(tokenizer, work / "model"), args=sft_args,
                         train_dataset=sft_rows,
                         processing_class=tokenizer)  # fmt: skip
    trainer.train()
    losses(trainer, "SFT")
    if misfits.seen:
        raise SystemExit(f"TRL could not split a row into prompt and completion: {misfits.seen[0]}")


with tempfile.TemporaryDirectory() as tmp:
    if len(sys.argv) > 1:
        out = Path(sys.argv[1])
    else:
        out = Path(tmp) / "demo"
        cli(["demo", "--out", str(out)])  # offline, to have a folder
        print()

    kto, sft = Path(tmp) / "kto.jsonl", Path(tmp) / "sft.jsonl"
    stats = export_file(out / "improved_interleaved.jsonl", kto, fmt="kto")
    export_file(out / "improved_examples.jsonl", sft, fmt="sft")
    check = verify_interleaving(out / "improved_interleaved.jsonl", batch_size=8)
    weights = check.suggested_weights()
    report = json.loads((out / "report.json").read_text())
    print(f"{stats.written} KTO rows: {check.desirable} desirable, {check.undesirable} undesirable")
    print(f"longest run of one label: {check.longest_run}; "
          f"batches of 8 lacking a label: {check.batches_lacking_a_label}")  # fmt: skip
    print(f"weights: {weights} (report: {report['counts']['improved']} improved)")

    try:
        import torch  # type: ignore[import-not-found]  # noqa: F401
        import trl  # type: ignore[import-not-found]  # noqa: F401
    except ImportError as exc:
        print(f"\nTo train, install the train extra (`pip install -e '.[train]'`; "
              f"{exc.name} is missing). The data is ready: "
              "datasets.load_dataset('json', data_files=...).")  # fmt: skip
        sys.exit(0)
    train(kto, sft, weights, Path(tmp))
    print("trained: KTO and SFT steps ran on the CPU with finite losses")
