"""Aggregation over prompts: the mean with a percentile bootstrap confidence interval."""
from __future__ import annotations

import numpy as np


def mean_ci(
    values: np.ndarray | list[float], *, level: float = 0.95, n_boot: int = 2000, seed: int = 0
) -> tuple[float, float, float, int]:
    """(mean, low, high, count) over the finite values; NaN marks prompts the statistic is undefined on.

    The interval resamples prompts with replacement (percentile bootstrap, fixed seed, so a number
    printed twice is the same number). With fewer than two values the interval is the point itself.
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return (float("nan"),) * 3 + (0,)  # type: ignore[return-value]
    mean = float(x.mean())
    if x.size < 2:
        return mean, mean, mean, 1
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(n_boot, x.size))].mean(axis=1)
    tail = (1 - level) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return mean, float(low), float(high), int(x.size)
