"""Trajectory analysis: values along a schedule, the entropy-performance law, backward transfer, the
correctness-creativity Pareto front, and the comparability check (intervals and tests: ``creval.stats``)."""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from creval.errors import CrevalError
from creval.signature import comparable


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


def fit_entropy_law(entropy: Sequence[float], reward: Sequence[float], min_points: int = 3,
                    min_spread: float = 0.01) -> Fit:
    """Least squares of R on exp(H) (the law is linear in x = exp(H): R = b - a x).

    Refused (CrevalError, with the reason) where a fit would mean nothing: fewer than ``min_points``
    checkpoints; a reward that does not vary (R^2 is undefined, any line fits); entropies that span less
    than ``min_spread`` nats (the slope is then set by noise: 0.5, 0.5000001, 0.5000002 gave a = -3e5)."""
    pairs = [(h, r) for h, r in zip(entropy, reward) if math.isfinite(h) and math.isfinite(r)]
    if len(pairs) < min_points:
        raise CrevalError(f"the entropy-performance fit needs at least {min_points} checkpoints, got {len(pairs)}")
    h = np.array([p[0] for p in pairs])
    y = np.array([p[1] for p in pairs])
    if np.ptp(y) == 0:
        raise CrevalError(f"the reward is {y[0]:g} at every checkpoint: nothing to fit")
    if np.ptp(h) < min_spread:
        raise CrevalError(f"the entropies span {np.ptp(h):.2g} nats (< {min_spread}): the fit is ill-conditioned")
    x = np.exp(h)
    slope, intercept = np.polyfit(x, y, 1)
    predicted = slope * x + intercept
    total = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float(((y - predicted) ** 2).sum()) / total
    return Fit(a=float(-slope), b=float(intercept), r2=r2, points=len(pairs))


def _by_step(steps: Sequence[int], values: Sequence[float]) -> list[tuple[int, float]]:
    """(step, value) sorted by step over the finite values; several values at one step are averaged."""
    at: dict[int, list[float]] = {}
    for s, v in zip(steps, values):
        if math.isfinite(v):
            at.setdefault(int(s), []).append(float(v))
    return [(s, sum(v) / len(v)) for s, v in sorted(at.items())]


def area_under(steps: Sequence[int], values: Sequence[float]) -> float:
    """Trapezoid area under the trajectory divided by its step range (the trajectory's mean level)."""
    pts = _by_step(steps, values)
    if len(pts) < 2:
        return pts[0][1] if pts else float("nan")
    s, v = np.array([p[0] for p in pts], float), np.array([p[1] for p in pts], float)
    return float(np.sum((v[1:] + v[:-1]) / 2 * np.diff(s)) / (s[-1] - s[0]))


def collapse_step(steps: Sequence[int], entropy: Sequence[float], threshold: float, *, relative: bool = False) -> int | None:
    """The first step whose entropy is below ``threshold`` nats, or, with ``relative``, below
    ``threshold`` times the entropy at the first step (0.5: half the starting entropy); None if none is."""
    pts = _by_step(steps, entropy)
    if not pts:
        return None
    limit = threshold * pts[0][1] if relative else threshold
    return next((s for s, h in pts if h < limit), None)


@dataclass(frozen=True)
class Stage:
    """A stage of a schedule as backward transfer sees it: the families it trains and the step of the
    checkpoint that closes it."""

    name: str
    families: tuple[str, ...]
    end: int


def stage_ends(stages: Sequence[tuple[str, int | None, Sequence[str]]], steps: Sequence[int]) -> tuple[list[Stage], list[str]]:
    """The closing checkpoint of each stage. ``stages``: (name, until, families) in order, ``until``
    exclusive (None: the last stage, which ends at the last checkpoint); ``steps``: evaluated steps.
    Where no checkpoint sits at ``until - 1`` the last one before it stands in, with a warning."""
    out, warnings, ordered = [], [], sorted(set(steps))
    for name, until, families in stages:
        inside = [s for s in ordered if until is None or s < until]
        if not inside:
            warnings.append(f"stage {name!r} has no evaluated checkpoint")
            continue
        end = inside[-1]
        if until is not None and end != until - 1:
            warnings.append(f"stage {name!r} ends at step {until - 1} but its last checkpoint is step {end}")
        out.append(Stage(name, tuple(families), end))
    return out, warnings


def backward_transfer(stages: Sequence[Stage], value_at: Callable[[str, int], float]) -> dict[str, Any]:
    """BWT (Lopez-Paz & Ranzato 2017): the mean over every (stage, family) of all stages but the last of
    R(family, end of training) - R(family, end of that stage). Every family a stage trains is one task,
    so a last stage training several families contributes no term (it is not "before the end").
    ``value_at(family, step)``: R. Returns the value, its terms and the stage ends used."""
    if len(stages) < 2:
        raise CrevalError("backward transfer needs a schedule with at least two stages")
    final = stages[-1].end
    terms: list[dict[str, Any]] = [{"stage": st.name, "family": f, "end": st.end, "final": final,
              "change": value_at(f, final) - value_at(f, st.end)} for st in stages[:-1] for f in st.families]
    finite = [t["change"] for t in terms if math.isfinite(t["change"])]
    return {"value": float(np.mean(finite)) if finite else float("nan"), "terms": terms,
            "stage_ends": {st.name: st.end for st in stages}}


def structured_correctness(by_family: Mapping[str, float]) -> float:
    """The Pareto front's x: the mean correctness over the structured families present (math, code)."""
    values = [v for f, v in by_family.items() if f in ("math", "code") and math.isfinite(v)]
    return float(np.mean(values)) if values else float("nan")


def pareto_front(points: Sequence[tuple[float, float]], directions: tuple[int, int] = (1, 1)) -> list[int]:
    """Indices of the points no other point beats on both coordinates; ``directions``: +1 where higher
    is better on that coordinate, -1 where lower is."""
    signed = [(x * directions[0], y * directions[1]) for x, y in points]
    front = []
    for i, (x, y) in enumerate(signed):
        if not (math.isfinite(x) and math.isfinite(y)):
            continue
        if not any((x2 >= x and y2 >= y) and (x2 > x or y2 > y) for j, (x2, y2) in enumerate(signed) if j != i):
            front.append(i)
    return front


def check_comparable(rows: Sequence[dict]) -> None:
    """Refuse to combine values of one statistic on one task whose signatures are not comparable."""
    seen: dict[tuple[str, str], dict] = {}
    for row in rows:
        key = (row["task"], row["statistic"])
        first = seen.setdefault(key, row)
        ok, why = comparable(first["signature"], row["signature"])
        if not ok:
            raise CrevalError(
                f"not comparable: {row['statistic']} on {row['task']} at {first['schedule']} step {first['step']} "
                f"and {row['schedule']} step {row['step']}: {why}")
