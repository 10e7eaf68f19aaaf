"""pass@k: the probability that at least one of k samples, drawn without replacement from the n
generated for a prompt, is correct. Unbiased estimator of Chen et al. 2021 ("Evaluating Large Language
Models Trained on Code", arXiv 2107.03374): 1 - C(n-c, k) / C(n, k), computed as the product
prod_{i=n-c+1}^{n} (1 - k/i), which stays exact in floating point where the binomials overflow.

Samples whose grade is None (grading failed) are left out of n; a prompt with fewer graded samples than
k reports NaN for that k rather than a silently lower estimate.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from creval.records import Generation, GenerationConfig, Grade, Prompt

from ._kmetric import KMetric, default_ks

__all__ = ["PassAtK", "default_ks", "pass_at_k"]


def pass_at_k(n: int, c: int, k: int) -> float:
    if not 0 <= c <= n or k < 1:
        raise ValueError(f"need 0 <= c <= n and k >= 1, got n={n}, c={c}, k={k}")
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples, got {n}")
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


@dataclass
class PassAtK(KMetric):
    name = "pass_at_k"
    description = "unbiased pass@k (Chen et al. 2021) for every requested k (default: 1, powers of 2, n)"

    def statistics(self, config: GenerationConfig) -> list[str]:
        return [f"pass@{k}" for k in self.ks(config.n)]

    def score(self, prompt: Prompt, generations: Sequence[Generation], grades: Sequence[Grade]) -> dict[str, float]:
        verdicts = [g.correct for g in grades if g.correct is not None]
        n, c = len(verdicts), sum(verdicts)
        return {f"pass@{k}": pass_at_k(n, c, k) if k <= n else float("nan") for k in self.ks(len(grades))}
