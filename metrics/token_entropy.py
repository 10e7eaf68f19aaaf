"""Token entropy: the entropy (nats) of the distribution each generated token was sampled from.

``token_entropy`` averages per response, then over the prompt's responses (each response weighs the
same); ``token_entropy_tokw`` averages over all tokens of the prompt's responses (long responses weigh
more, as verl's logged ``actor/entropy`` does within a batch). The backend decides how a token's entropy
is computed; the signature's ``H`` field names it (``exact``: softmax(logits / T) over the full
vocabulary; ``topk-renorm:K=20``: from the top-20 log-probabilities, see ``creval.backends.topk``).
``token_entropy_lo`` / ``_hi`` average the per-token bounds on the exact entropy that a top-K backend
records (equal to ``token_entropy`` for exact entropies). Responses with no tokens are left out; none
at all gives NaN.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from creval.metric import CellInfo, Metric
from creval.records import GenerationConfig, Generation, Grade, Prompt


@dataclass
class TokenEntropy(Metric):
    name = "token_entropy"
    description = "mean per-token entropy of the sampling distribution (per response, and token-weighted)"

    version = "2"

    def statistics(self, config: GenerationConfig) -> list[str]:
        return ["token_entropy", "token_entropy_tokw", "token_entropy_lo", "token_entropy_hi"]

    def fields(self, cell: CellInfo) -> dict[str, str]:
        return {"H": cell.entropy_kind}

    def score(self, prompt: Prompt, generations: Sequence[Generation], grades: Sequence[Grade]) -> dict[str, float]:
        kept = [g for g in generations if g.token_entropy]
        if not kept:
            return dict.fromkeys(self.statistics(None), math.nan)  # type: ignore[arg-type]

        def mean_of_means(series: list[tuple[float, ...]]) -> float:
            return sum(sum(h) / len(h) for h in series) / len(series)

        per_response = [g.token_entropy for g in kept]
        total = sum(len(h) for h in per_response)
        return {
            "token_entropy": mean_of_means(per_response),  # type: ignore[arg-type]
            "token_entropy_tokw": sum(sum(h) for h in per_response) / total,  # type: ignore[arg-type]
            "token_entropy_lo": mean_of_means([g.token_entropy_lo or g.token_entropy for g in kept]),  # type: ignore[misc]
            "token_entropy_hi": mean_of_means([g.token_entropy_hi or g.token_entropy for g in kept]),  # type: ignore[misc]
        }
