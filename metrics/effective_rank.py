"""Hidden-state effective rank (Roy & Vetterli 2007, "The effective rank: a measure of effective
dimensionality"; used for representation collapse under RL in arXiv 2509.23808): for each response,
the last-layer hidden states of its tokens (T x d) have singular values s_i; with p_i = s_i / sum s
(singular values, not squared), erank = exp(-sum p_i ln p_i), between 1 (all tokens share one
direction) and min(T, d). Averaged over the prompt's responses.

The backend computes it at generation time, when asked: ``creval run --hidden-states`` (Hugging Face
backend). A cell generated without it has no values: NaN, with every prompt left out. A response
whose hidden states hold NaN or infinity (a diverged checkpoint, fp16 overflow) has no singular values
to speak of: its effective rank is NaN (LAPACK would raise instead).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from creval.metric import CellInfo, Metric
from creval.records import Generation, GenerationConfig, Grade, Prompt


def effective_rank(matrix: np.ndarray) -> float:
    """exp of the Shannon entropy of the normalised singular values of ``matrix`` (NaN if it is zero
    or not finite)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    if not np.isfinite(matrix).all():
        return float("nan")
    singular = np.linalg.svd(matrix, compute_uv=False)
    total = singular.sum()
    if total <= 0:
        return float("nan")
    p = singular[singular > 0] / total
    return float(np.exp(-np.sum(p * np.log(p))))


@dataclass
class EffectiveRank(Metric):
    name = "effective_rank"
    description = "effective rank of each response's last-layer hidden states (needs --hidden-states)"

    def statistics(self, config: GenerationConfig) -> list[str]:
        return ["hidden-erank"]

    def fields(self, cell: CellInfo) -> dict[str, str]:
        return {"layer": "last", "sv": "unsquared"}

    def score(self, prompt: Prompt, generations: Sequence[Generation], grades: Sequence[Grade]) -> dict[str, float]:
        values = [g.hidden_erank for g in generations if g.hidden_erank is not None]
        return {"hidden-erank": sum(values) / len(values) if values else float("nan")}
