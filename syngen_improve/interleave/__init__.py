"""Label-balanced interleaving for KTO, and its verification.

TRL's KTOTrainer reads the file in order (no shuffling), so the order on disk is the
order of training. The interleaver streams a desirable and an undesirable file into
True, False, True, False, ... and places the surplus of the longer side by a stated
policy:

- ``kto`` (what ``improve`` writes): labels alternate, the unpaired rows of either side are
  spread evenly (longest run ``ceil(max(D, U) / min(D, U))``), and rows that share a prompt
  (an improvement and its original, or repeated inputs) are kept more than ``prompt_gap`` rows
  apart, because TRL builds its KL pairs from neighbouring rows (see ``_arrange``);

- ``truncate``: drop the surplus;
- ``spread`` (default): place the surplus evenly, so the longest run of one label is
  ``ceil(max(D, U) / min(D, U))`` and every trainer batch holds both labels whenever the
  ratio allows; it counts both files first (a streaming pass, nothing loaded);
- ``oversample``: keep alternating by repeating the minority from its start, each
  repeat marked ``"_repeat": true``;
- ``tail``: append the surplus at the end (named for completeness: it trains the end of
  the run on one label; a warning says so).

``pairs=True`` keeps each improved example immediately followed by its own original
(joined on ``_source_line``), then places the unpaired rest by the policy.
``shuffle_seed`` shuffles (pairs, or each side) through a bounded buffer first, since
inputs are often sorted by tool or agent. Memory does not grow with the input, except
``pairs``, which keeps a compact index of 16 bytes per undesirable line.
"""

from __future__ import annotations

from ._arrange import DEFAULT_GAP, PairStream, last_prompts
from ._merge import POLICIES, InterleaveStats, Policy, interleave, interleave_files
from ._verify import InterleaveReport, verify_interleaving

__all__ = [
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
]
