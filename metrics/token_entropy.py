"""Token entropy: the entropy (nats) of the distribution each generated token was sampled from.

``token_entropy`` averages per response, then over the prompt's responses (each response weighs the
same); ``token_entropy_tokw`` averages over all tokens of the prompt's responses (long responses weigh
more, as verl's logged ``actor/entropy`` does within a batch). The backend decides how a token's entropy
is computed; the signature's ``H`` field names it (``exact``: softmax(logits / T) over the full
vocabulary; see docs/metrics.md). Responses with no tokens are left out; none at all gives NaN.
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

    def statistics(self, config: GenerationConfig) -> list[str]:
        return ["token_entropy", "token_entropy_tokw"]

    def fields(self, cell: CellInfo) -> dict[str, str]:
        return {"H": cell.entropy_kind}

    def score(self, prompt: Prompt, generations: Sequence[Generation], grades: Sequence[Grade]) -> dict[str, float]:
        per_response = [g.token_entropy for g in generations if g.token_entropy]
        if not per_response:
            return {"token_entropy": math.nan, "token_entropy_tokw": math.nan}
        means = [sum(h) / len(h) for h in per_response]
        total = sum(len(h) for h in per_response)
        return {
            "token_entropy": sum(means) / len(means),
            "token_entropy_tokw": sum(sum(h) for h in per_response) / total,
        }
