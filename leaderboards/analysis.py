"""Trajectory analysis: values along a schedule, the entropy-performance law, backward transfer, the
correctness-creativity Pareto front, paired bootstrap comparisons, and the comparability check."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from creval.errors import CrevalError


@dataclass(frozen=True)
class Fit:
    """R = -a exp(H) + b (Cui et al. 2025, arXiv 2505.22617): ``ceiling`` = b - a, R at H = 0."""

    a: float
    b: float
    r2: float
    points: int

    @property
    def ceiling(self) -> float:
        return self.b - self.a


def fit_entropy_law(entropy: Sequence[float], reward: Sequence[float], min_points: int = 3) -> Fit:
    """Least squares of R on exp(H) (the law is linear in x = exp(H): R = b - a x)."""
    pairs = [(h, r) for h, r in zip(entropy, reward) if math.isfinite(h) and math.isfinite(r)]
    if len(pairs) < min_points:
        raise CrevalError(f"the entropy-performance fit needs at least {min_points} checkpoints, got {len(pairs)}")
    x = np.exp(np.array([h for h, _ in pairs]))
    y = np.array([r for _, r in pairs])
    if np.ptp(x) == 0:
        raise CrevalError("the entropy-performance fit needs checkpoints with different entropies")
    slope, intercept = np.polyfit(x, y, 1)
    predicted = slope * x + intercept
    total = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float(((y - predicted) ** 2).sum()) / total if total > 0 else 1.0
    return Fit(a=float(-slope), b=float(intercept), r2=r2, points=len(pairs))


def area_under(steps: Sequence[int], values: Sequence[float]) -> float:
    """Trapezoid area under the trajectory divided by its step range (the trajectory's mean level)."""
    pts = sorted((s, v) for s, v in zip(steps, values) if math.isfinite(v))
    if len(pts) < 2:
        return pts[0][1] if pts else float("nan")
    s, v = np.array([p[0] for p in pts], float), np.array([p[1] for p in pts], float)
    return float(np.sum((v[1:] + v[:-1]) / 2 * np.diff(s)) / (s[-1] - s[0]))


def collapse_step(steps: Sequence[int], entropy: Sequence[float], threshold: float) -> int | None:
    """The first step whose entropy is below ``threshold``, or None."""
    return next((s for s, h in sorted(zip(steps, entropy)) if h < threshold), None)


def backward_transfer(stage_ends: Sequence[tuple[str, int]], value_at: dict[tuple[str, int], float], final_step: int) -> float:
    """BWT (Lopez-Paz & Ranzato 2017) over stages: mean over every stage but the last of
    (R at the end of training on that stage's domain - R right after that stage).
    ``stage_ends``: (domain, last step of the stage) in order; ``value_at[(domain, step)]``: R."""
    terms = [value_at[(d, final_step)] - value_at[(d, end)] for d, end in stage_ends[:-1]]
    if not terms:
        raise CrevalError("backward transfer needs a schedule with at least two stages")
    return float(np.mean(terms))


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats on both coordinates (higher is better on both)."""
    front = []
    for i, (x, y) in enumerate(points):
        dominated = any((x2 >= x and y2 >= y) and (x2 > x or y2 > y) for j, (x2, y2) in enumerate(points) if j != i)
        if not dominated and math.isfinite(x) and math.isfinite(y):
            front.append(i)
    return front


def paired_bootstrap(a: dict[str, float], b: dict[str, float], *, n_boot: int = 2000, seed: int = 0,
                     level: float = 0.95) -> tuple[float, float, float, int]:
    """(mean of b - a, low, high, prompts) over the prompts both have, resampling prompts in pairs."""
    common = sorted(p for p in set(a) & set(b) if math.isfinite(a[p]) and math.isfinite(b[p]))
    if not common:
        return float("nan"), float("nan"), float("nan"), 0
    d = np.array([b[p] - a[p] for p in common])
    if len(d) == 1:
        return float(d[0]), float(d[0]), float(d[0]), 1
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, len(d), size=(n_boot, len(d)))].mean(axis=1)
    tail = (1 - level) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(d.mean()), float(low), float(high), len(d)


def check_comparable(rows: Sequence[dict]) -> None:
    """Refuse to combine values of one statistic on one task whose signatures differ, other than in
    the task hash's version of nothing: the signature already names task, config and metric version."""
    seen: dict[tuple[str, str], dict] = {}
    for row in rows:
        key = (row["task"], row["statistic"])
        first = seen.setdefault(key, row)
        if first["signature"] != row["signature"]:
            raise CrevalError(
                f"not comparable: {row['statistic']} on {row['task']} has signature {first['signature']} at "
                f"{first['schedule']} step {first['step']} but {row['signature']} at {row['schedule']} step {row['step']}")
