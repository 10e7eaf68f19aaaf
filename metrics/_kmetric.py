"""The shared shape of the correctness metrics reported for a set of k (pass@k, mean@k, maj@k, G-Pass@k)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from creval.errors import CrevalError
from creval.metric import Metric
from creval.records import Family, GenerationConfig


def default_ks(n: int) -> tuple[int, ...]:
    """1, the powers of two below n, and n."""
    ks = {n}
    k = 1
    while k < n:
        ks.add(k)
        k *= 2
    return tuple(sorted(ks))


@dataclass
class KMetric(Metric):
    """A correctness metric reported for a set of k (default: 1, powers of two, n); k > n is an error."""

    families: ClassVar[tuple[Family, ...]] = ("math", "code")
    k: tuple[int, ...] | None = None

    def ks(self, n: int) -> tuple[int, ...]:
        return tuple(sorted(set(self.k))) if self.k else default_ks(n)

    def n_free(self, statistic: str) -> bool:
        """pass@k, G-Pass@k (averages over all k-subsets of the n samples) and mean@k, maj@k (the first k
        of n exchangeable samples) are unbiased estimates of a k-sample quantity for any n >= k."""
        return True

    def prepare(self, config: GenerationConfig) -> None:
        bad = [k for k in self.ks(config.n) if k < 1 or k > config.n]
        if bad:
            raise CrevalError(f"{self.name}: k={','.join(map(str, bad))} is impossible with n={config.n} samples "
                              "per prompt (need 1 <= k <= n; raise --n or lower k)")
