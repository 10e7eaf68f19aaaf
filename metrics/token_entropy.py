"""Token entropy (nats) of two distributions, reported apart (signature field ``dist``):

* ``token_entropy*`` (``dist:sampled``): the distribution each generated token was actually drawn
  from, softmax(logits / T) after top-p truncation and renormalisation; 0 for greedy decoding;
* ``token_entropy_model*`` (``dist:model``): the model's full-vocabulary softmax(logits / T) before
  truncation (at T = 0: softmax(logits)), the policy entropy RL papers track.

With top_p = 1 and T > 0 they are one distribution. ``token_entropy`` averages per response, then over
the prompt's responses (each response weighs the same); ``_tokw`` averages over all tokens of the
prompt's responses (long responses weigh more, as verl's logged ``actor/entropy`` does within a batch).
The backend decides how a token's entropy is computed; the signature's ``H`` field names it (``exact``;
``topk-renorm:K=20``: from the top-20 log-probabilities, see ``creval.backends.topk``; ``none``: the
backend could not give it, the values are NaN). ``_lo`` / ``_hi`` average the per-token bounds on the
exact entropy that a top-K backend records (equal to the estimate for exact entropies). Responses with
no tokens are left out; none at all gives NaN.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from creval.metric import CellInfo, Metric
from creval.records import Generation, GenerationConfig, Grade, Prompt

_SERIES = {"sampled": ("token_entropy", "token_entropy_lo", "token_entropy_hi"),
           "model": ("token_entropy_model", "token_entropy_model_lo", "token_entropy_model_hi")}


def _mean_of_means(series: list[tuple[float, ...]]) -> float:
    return sum(sum(h) / len(h) for h in series) / len(series)


def _statistics(prefix: str) -> list[str]:
    return [prefix, f"{prefix}_tokw", f"{prefix}_lo", f"{prefix}_hi"]


@dataclass
class TokenEntropy(Metric):
    name = "token_entropy"
    description = "mean per-token entropy of the sampled and of the model's distribution (per response, token-weighted)"

    version = "3"

    def statistics(self, config: GenerationConfig) -> list[str]:
        return [name for values, _, _ in _SERIES.values() for name in _statistics(values)]

    @staticmethod
    def distribution(statistic: str) -> str:
        return "model" if statistic.startswith("token_entropy_model") else "sampled"

    def statistic_fields(self, statistic: str, cell: CellInfo) -> dict[str, str]:
        dist = self.distribution(statistic)
        return {"H": cell.entropy_kind if dist == "sampled" else cell.model_entropy_kind, "dist": dist}

    def score(self, prompt: Prompt, generations: Sequence[Generation], grades: Sequence[Grade]) -> dict[str, float]:
        out: dict[str, float] = {}
        for values, lo, hi in _SERIES.values():
            kept = [g for g in generations if getattr(g, values)]
            names = _statistics(values)
            if not kept:
                out.update(dict.fromkeys(names, math.nan))
                continue
            per_response = [getattr(g, values) for g in kept]
            out.update(zip(names, (
                _mean_of_means(per_response),
                sum(sum(h) for h in per_response) / sum(len(h) for h in per_response),
                _mean_of_means([getattr(g, lo) or getattr(g, values) for g in kept]),
                _mean_of_means([getattr(g, hi) or getattr(g, values) for g in kept]),
            )))
        return out
