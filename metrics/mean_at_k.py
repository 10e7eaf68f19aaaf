"""mean@k: the share of correct samples among the first k of a prompt's samples (avg@k in recent RL
papers; with k = n it is the unbiased estimate of single-sample accuracy). Samples are exchangeable
(independent draws), so the first k are a fair subset. Default k: every k that pass@k reports.
Samples whose grade is None are skipped; fewer than k graded samples gives NaN.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from creval.records import Generation, GenerationConfig, Grade, Prompt

from ._kmetric import KMetric


@dataclass
class MeanAtK(KMetric):
    name = "mean_at_k"
    description = "share of correct samples among the first k (avg@k)"

    def statistics(self, config: GenerationConfig) -> list[str]:
        return [f"mean@{k}" for k in self.ks(config.n)]

    def score(self, prompt: Prompt, generations: Sequence[Generation], grades: Sequence[Grade]) -> dict[str, float]:
        verdicts = [g.correct for g in grades if g.correct is not None]
        return {f"mean@{k}": sum(verdicts[:k]) / k if len(verdicts) >= k else float("nan")
                for k in self.ks(len(grades))}
