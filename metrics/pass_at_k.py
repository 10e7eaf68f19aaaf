"""pass@k: the probability that at least one of k samples, drawn without replacement from the n
generated for a prompt, is correct. Unbiased estimator of Chen et al. 2021 ("Evaluating Large Language
Models Trained on Code", arXiv 2107.03374): 1 - C(n-c, k) / C(n, k), computed as the product
prod_{i=n-c+1}^{n} (1 - k/i), which stays exact in floating point where the binomials overflow.

Samples whose grade is None (grading failed) are left out of n; a prompt with fewer graded samples than
k reports NaN for that k rather than a silently lower estimate.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from creval.errors import CrevalError
from creval.metric import Metric
from creval.records import GenerationConfig, Generation, Grade, Prompt


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


def default_ks(n: int) -> tuple[int, ...]:
    """1, the powers of two below n, and n."""
    ks = {n}
    k = 1
    while k < n:
        ks.add(k)
        k *= 2
    return tuple(sorted(ks))


@dataclass
class PassAtK(Metric):
    name = "pass_at_k"
    families = ("math", "code")
    description = "unbiased pass@k (Chen et al. 2021) for every requested k (default: 1, powers of 2, n)"
    k: tuple[int, ...] | None = None

    def _ks(self, config: GenerationConfig) -> tuple[int, ...]:
        return tuple(sorted(set(self.k))) if self.k else default_ks(config.n)

    def prepare(self, config: GenerationConfig) -> None:
        bad = [k for k in self._ks(config) if k < 1 or k > config.n]
        if bad:
            raise CrevalError(
                f"pass@k: k={','.join(map(str, bad))} is impossible with n={config.n} samples per prompt "
                f"(need 1 <= k <= n; raise --n or lower k)"
            )

    def statistics(self, config: GenerationConfig) -> list[str]:
        return [f"pass@{k}" for k in self._ks(config)]

    def score(self, prompt: Prompt, generations: Sequence[Generation], grades: Sequence[Grade]) -> dict[str, float]:
        verdicts = [g.correct for g in grades if g.correct is not None]
        n, c = len(verdicts), sum(verdicts)
        ks = self.k or default_ks(len(grades))
        return {f"pass@{k}": pass_at_k(n, c, k) if k <= n else float("nan") for k in sorted(set(ks))}
