"""G-Pass@k_tau (Liu et al. 2024, "Are Your LLMs Capable of Stable Reasoning?", arXiv 2412.13147;
OpenCompass): the probability that at least ceil(tau * k) of k samples drawn without replacement from
the n generated are correct, i.e. the hypergeometric tail

    G-Pass@k_tau = sum_{j = ceil(tau k)}^{k} C(c, j) C(n - c, k - j) / C(n, k)

with c correct of n. tau = 1 asks for all k correct; small tau approaches pass@k. Also mG-Pass@k, the
paper's mean over tau in (0.5, 1]: 2/k * sum_{i = ceil(k/2) + 1}^{k} G-Pass@k_{i/k}. Computed in exact
integer arithmetic. Samples whose grade is None are left out of n; too few gives NaN.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from creval.records import Generation, GenerationConfig, Grade, Prompt

from ._kmetric import KMetric


def g_pass_at_k(n: int, c: int, k: int, tau: float) -> float:
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    need = max(1, math.ceil(tau * k - 1e-12))
    hits = sum(math.comb(c, j) * math.comb(n - c, k - j) for j in range(need, k + 1))
    return float(Fraction(hits, math.comb(n, k)))


def mg_pass_at_k(n: int, c: int, k: int) -> float:
    start = math.ceil(k / 2) + 1
    return 2 / k * sum(g_pass_at_k(n, c, k, i / k) for i in range(start, k + 1)) if start <= k else float("nan")


@dataclass
class GPassAtK(KMetric):
    name = "g_pass_at_k"
    description = "G-Pass@k at thresholds tau and mG-Pass@k (Liu et al. 2024, OpenCompass)"
    tau: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)

    def statistics(self, config: GenerationConfig) -> list[str]:
        return [s for k in self.ks(config.n) for s in [f"g-pass@{k}:{t:g}" for t in self.tau] + [f"mg-pass@{k}"]]

    def score(self, prompt: Prompt, generations: Sequence[Generation], grades: Sequence[Grade]) -> dict[str, float]:
        verdicts = [g.correct for g in grades if g.correct is not None]
        n, c = len(verdicts), sum(verdicts)
        out = {}
        for k in self.ks(len(grades)):
            for t in self.tau:
                out[f"g-pass@{k}:{t:g}"] = g_pass_at_k(n, c, k, t) if k <= n else float("nan")
            out[f"mg-pass@{k}"] = mg_pass_at_k(n, c, k) if k <= n else float("nan")
        return out
